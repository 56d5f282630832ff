"""Text extraction from uploaded tender documents (.txt, .docx, .pdf), for the fair-competition
review and search. A file that cannot be read is refused as ``unreadable_document`` (422)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ggzy.core.errors import ValidationFailed

MAX_CHARS = 2_000_000
# A PDF line that does not end a sentence or an item continues on the next line.
_LINE_END = re.compile(r"[。！？；：!?;:]\s*$")
_ITEM_START = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.、．]|第.{1,6}[条章节])"
)


def _unreadable(suffix: str, exc: BaseException | None = None) -> ValidationFailed:
    return ValidationFailed(
        "文件无法读取，请检查文件是否损坏 (the document cannot be read)",
        code="unreadable_document",
        detail={"type": suffix, "error": type(exc).__name__ if exc else None},
    )


def _cap(text: str) -> str:
    return text.replace("\x00", "")[:MAX_CHARS]


def _txt(path: Path) -> str:
    data = path.read_bytes()[: MAX_CHARS * 4]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _docx_blocks(document: Any) -> Iterator[str]:
    """Paragraphs and table rows in document order (cells joined by " | ")."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            yield from _table_rows(block)


def _table_rows(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text for p in cell.paragraphs).strip())
            for inner in cell.tables:
                cells.extend(_table_rows(inner))
        yield " | ".join(c for c in cells if c)


def _docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    out, size = [], 0
    for block in _docx_blocks(document):
        out.append(block)
        size += len(block) + 1
        if size > MAX_CHARS:
            break
    return "\n".join(out)


def _join_wrapped(lines: list[str]) -> list[str]:
    """PDF text comes in visual lines; put a sentence broken across lines back together."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line.strip():
            continue
        if out and not _LINE_END.search(out[-1]) and not _ITEM_START.match(line):
            out[-1] += line.strip()
        else:
            out.append(line.strip())
    return out


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise _unreadable(".pdf", exc) from None
    pages, size = [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        pages.append("\n".join(_join_wrapped(text.splitlines())))
        size += len(text)
        if size > MAX_CHARS:
            break
    return "\n".join(pages)


READERS = {".txt": _txt, ".docx": _docx, ".pdf": _pdf}


def extract_text(path: Path, suffix: str) -> str:
    """The document's text, at most 2,000,000 characters; "" for types without text."""
    reader = READERS.get(suffix.lower())
    if reader is None:
        return ""
    try:
        return _cap(reader(path))
    except ValidationFailed:
        raise
    except (FileNotFoundError, PermissionError, MemoryError):
        raise
    except (zipfile.BadZipFile, Exception) as exc:
        # python-docx and pypdf raise many types on a damaged file (BadZipFile, KeyError,
        # PdfReadError, ValueError, lxml errors...): all mean "this file cannot be read"
        raise _unreadable(suffix, exc) from None
