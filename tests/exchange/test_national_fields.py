"""The national datasets' field configuration: the packaged default has exactly the field file's
shape (shared/reference/data-exchange-fields.txt), an override file changes lengths and
requirements, and a value is checked against it (refused with its reason, never cut)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ggzy.exchange import national_fields
from ggzy.exchange.national_fields import FieldConfigError
from ggzy.exchange.national_fields_data import DEFAULT

FIELD_FILE = Path(__file__).resolve().parents[3] / "shared/reference/data-exchange-fields.txt"
EXPORTED = ["100", "500", "501", "502", "503", "506", "510", "512", "513"]
LAND_AND_PROPERTY = ["600", "601", "700", "701", "750", "753"]


def write(tmp_path: Path, value: object) -> str:
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.skipif(not FIELD_FILE.exists(), reason="shared/ is not beside the repository")
def test_the_packaged_default_is_the_field_files_shape() -> None:
    parsed = national_fields.parse_field_file(FIELD_FILE.read_text(encoding="utf-8"))
    assert sorted(DEFAULT["datasets"]) == sorted(EXPORTED + LAND_AND_PROPERTY)
    for no, ds in DEFAULT["datasets"].items():
        assert ds == parsed[no], no


@pytest.mark.skipif(not FIELD_FILE.exists(), reason="shared/ is not beside the repository")
def test_field_counts_per_dataset_match_the_file() -> None:
    # counted by hand in data-exchange-fields.txt: ``NAME(…)`` entries per dataset line
    counts = {no: len(ds["fields"]) for no, ds in DEFAULT["datasets"].items()}
    assert counts == {"100": 36, "500": 19, "501": 34, "502": 17, "503": 41, "506": 12,
                      "510": 20, "512": 19, "513": 32, "600": 32, "601": 26, "700": 26,
                      "701": 22, "750": 29, "753": 20}  # fmt: skip


def test_field_specs_read_from_the_file() -> None:
    fields = DEFAULT["datasets"]
    assert fields["500"]["fields"]["PROJECT_CODE"] == {
        "label": "项目编号", "type": "string", "required": True, "max_length": 17,
        "fixed": True, "choices": None}  # fmt: skip
    # a label with ASCII parentheses: 标段(包)建立时间
    assert fields["502"]["fields"]["CREATE_TIME"]["type"] == "datetime"
    assert fields["502"]["fields"]["CREATE_TIME"]["required"] is True
    assert fields["502"]["fields"]["BEGIN_DATE"]["type"] == "date"
    assert fields["502"]["fields"]["CONTRACT_RECKON_PRICE"]["type"] == "number"
    assert fields["100"]["fields"]["REG_UNIT"]["choices"] == ["0", "1"]
    assert fields["512"]["fields"]["PRICE_FORM_CODE"]["choices"] == ["1", "2", "3", "9"]
    assert fields["100"]["fields"]["TAX_CERT_NO"]["required"] is False
    assert fields["503"]["fields"]["NOTICE_CONTENT"]["max_length"] is None


def test_every_row_carries_the_platform_codes_and_works_rows_the_trade_platform(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_EXCHANGE_FIELDS = None
    config = national_fields.load()
    project, legal = config.dataset("500"), config.dataset("100")
    assert project.names[-5:] == ["PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE", "DATA_TIMESTAMP",
                                  "TRADE_PLAT", "PUB_SERVICE_PLAT"]  # fmt: skip
    assert project.field("PLATFORM_CODE").max_length == 18
    assert project.field("TRADE_PLAT").max_length == 11
    assert "TRADE_PLAT" not in legal.names and "PLATFORM_CODE" in legal.names
    assert len(legal.names) == 36 + 3 and len(project.names) == 19 + 5


def test_an_override_file_changes_a_length_and_a_requirement(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_EXCHANGE_FIELDS = write(tmp_path, {"datasets": {"500": {"fields": {
        "PROJECT_CODE": {"max_length": 18}, "APPROVAL_NAME": {"required": False}}}},
        "platform": {"PLATFORM_CODE": "P" * 18}})  # fmt: skip
    config = national_fields.load()
    ds = config.dataset("500")
    assert ds.field("PROJECT_CODE").max_length == 18
    assert ds.field("APPROVAL_NAME").required is False
    assert ds.field("PROJECT_NAME").max_length == 600  # untouched
    assert config.platform["PLATFORM_CODE"] == "P" * 18
    settings.GGZY_EXCHANGE_FIELDS = None
    assert national_fields.load().dataset("500").field("PROJECT_CODE").max_length == 17


@pytest.mark.parametrize(
    "override",
    [
        {"datasets": {"999": {"fields": {}}}},
        {"datasets": {"500": {"fields": {"NO_SUCH_FIELD": {"max_length": 3}}}}},
        {"datasets": {"500": {"fields": {"PROJECT_CODE": {"max_length": -1}}}}},
        {"datasets": {"500": {"fields": {"PROJECT_CODE": {"max_length": True}}}}},
        {"datasets": {"500": {"fields": {"PROJECT_CODE": {"type": "blob"}}}}},
        {"datasets": {"500": {"fields": {"PROJECT_CODE": {"truncate": True}}}}},
        {"platform": {"PASSWORD": "x"}},
        {"codes": {"entity_role": {"bidder": 3}}},
        {"whatever": 1},
        {"share_contacts": "yes"},
        [1, 2],
    ],
)
def test_a_bad_override_file_is_refused_not_ignored(settings, tmp_path, override) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_EXCHANGE_FIELDS = write(tmp_path, override)
    with pytest.raises(FieldConfigError) as exc:
        national_fields.load()
    assert exc.value.code == "bad_field_config" and exc.value.status == 422


def test_an_unreadable_override_file_is_refused(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_EXCHANGE_FIELDS = str(tmp_path / "missing.json")
    with pytest.raises(FieldConfigError):
        national_fields.load()
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    settings.GGZY_EXCHANGE_FIELDS = str(tmp_path / "broken.json")
    with pytest.raises(FieldConfigError):
        national_fields.load()


def _reasons(
    config: national_fields.FieldConfig, no: str, row: dict[str, str]
) -> set[tuple[str, str]]:
    return {(r.field, r.code) for r in config.check(config.dataset(no), row)}


def test_values_are_checked_against_the_configuration(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_EXCHANGE_FIELDS = None
    config = national_fields.load()
    ds = config.dataset("512")
    row = dict.fromkeys(ds.names, "")
    assert ("CONTRACT_NAME", "missing") in _reasons(config, "512", row)
    row |= {"CONTRACT_NAME": "合" * 600, "CONTRACT_PRICE": "12.5", "PRICE_UNIT": "0",
            "PRICE_FORM_CODE": "1", "CONTRACT_SIGN_TIME": "20261218000000"}  # fmt: skip
    reasons = _reasons(config, "512", row)
    assert ("CONTRACT_NAME", "missing") not in reasons
    assert not {r for r in reasons if r[0] in ("CONTRACT_NAME", "CONTRACT_PRICE", "PRICE_UNIT")}
    row |= {"CONTRACT_NAME": "合" * 601, "CONTRACT_PRICE": "1e5", "PRICE_UNIT": "2",
            "CONTRACT_SIGN_TIME": "2026-12-18", "SURPLUS": "x"}  # fmt: skip
    reasons = _reasons(config, "512", row)
    assert {("CONTRACT_NAME", "too_long"), ("CONTRACT_PRICE", "bad_number"),
            ("PRICE_UNIT", "not_allowed"), ("CONTRACT_SIGN_TIME", "bad_format"),
            ("SURPLUS", "unknown_field")} <= reasons  # fmt: skip


def test_fixed_lengths_are_exact_only_when_enforced(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    row = {"TENDER_PROJECT_CODE": "3201002026GC000001"}  # the platform's 18-character code
    settings.GGZY_EXCHANGE_FIELDS = None
    config = national_fields.load()
    assert ("TENDER_PROJECT_CODE", "wrong_length") not in _reasons(config, "502", row)
    settings.GGZY_EXCHANGE_FIELDS = write(tmp_path, {"enforce_fixed_lengths": True})
    config = national_fields.load()
    assert ("TENDER_PROJECT_CODE", "wrong_length") in _reasons(config, "502", row)
    assert ("TENDER_PROJECT_CODE", "wrong_length") not in _reasons(
        config,
        "502",
        {"TENDER_PROJECT_CODE": "E3500000717002688002"},  # Fujian's tpc.json
    )
