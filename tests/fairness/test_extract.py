"""Text extraction: .txt (UTF-8 or GB18030), .docx (paragraphs and table cells in order), .pdf;
a damaged file is a 422 ``unreadable_document``, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggzy.core.errors import ValidationFailed
from ggzy.fairness import extract
from tests.fairness.support import make_docx, make_pdf


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_docx_paragraphs_and_table_cells_in_document_order(tmp_path: Path) -> None:
    data = make_docx(
        ["第一章 招标公告。"],
        table=[["设备", "品牌：某某科技"], ["数量", "10台"]],
        after=["第二章 投标人须知。"],
    )
    text = extract.extract_text(_file(tmp_path, "a.docx", data), ".docx")
    assert text == "第一章 招标公告。\n设备 | 品牌：某某科技\n数量 | 10台\n第二章 投标人须知。"


def test_pdf_text_with_wrapped_lines_joined(tmp_path: Path) -> None:
    data = make_pdf(["投标人须在本市设立分支机构", "或办事处。", "（二）投标保证金为5%。"])
    text = extract.extract_text(_file(tmp_path, "a.pdf", data), ".pdf")
    assert text == "投标人须在本市设立分支机构或办事处。\n（二）投标保证金为5%。"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_txt_in_utf8_or_gb18030(tmp_path: Path, encoding: str) -> None:
    path = _file(tmp_path, "a.txt", "投标人须在本市设立分支机构。".encode(encoding))
    assert extract.extract_text(path, ".txt") == "投标人须在本市设立分支机构。"


def test_other_types_have_no_text(tmp_path: Path) -> None:
    assert extract.extract_text(_file(tmp_path, "a.zip", b"PK\x03\x04"), ".zip") == ""


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        (".docx", b"this is not a zip file"),
        (".docx", b"PK\x03\x04" + b"\x00" * 100),
        (".pdf", b"%PDF-1.4\n garbage without objects"),
        (".pdf", b"not a pdf at all"),
    ],
)
def test_damaged_file_is_unreadable_document(tmp_path: Path, suffix: str, data: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        extract.extract_text(_file(tmp_path, "bad" + suffix, data), suffix)
    assert caught.value.code == "unreadable_document"
    assert caught.value.status == 422


def test_a_docx_zip_without_a_document_is_unreadable(tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed) as caught:
        extract.extract_text(_file(tmp_path, "z.docx", buffer.getvalue()), ".docx")
    assert caught.value.code == "unreadable_document"


def test_text_is_capped_and_nul_free(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "MAX_CHARS", 10)
    path = _file(tmp_path, "a.txt", ("甲\x00" * 50).encode())
    assert extract.extract_text(path, ".txt") == "甲" * 10
