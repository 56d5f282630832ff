"""The national data-exchange datasets (公共资源交易平台系统数据规范) as configuration: each
dataset's number, table name, Chinese name and fields (name, type, required, maximum length,
fixed length, allowed codes), and the platform's own identifiers every row carries.

The packaged default (:mod:`ggzy.exchange.national_fields_data`) is generated from
``shared/reference/data-exchange-fields.txt`` (:func:`parse_field_file`), which records *one
province's* (Fujian's) implementation; a deployment overrides any of it with a JSON file named
by ``settings.GGZY_EXCHANGE_FIELDS``. Lengths are counted in characters. A ``len=N`` field of
the file is recorded as ``max_length`` N and ``fixed`` true; it is checked as an exact length only
when the configuration sets ``enforce_fixed_lengths`` (Fujian's validator does; the platform's
18-character 交易标识码 does not fill Fujian's 20-character TENDER_PROJECT_CODE).

Override file (every key optional; unknown datasets or fields are refused, not ignored)::

    {"platform": {"PLATFORM_CODE": "…18…", "PUB_SERVICE_PLAT_CODE": "…", "TRADE_PLAT": "…",
                  "PUB_SERVICE_PLAT": "…"},
     "enforce_fixed_lengths": false,
     "share_contacts": false,
     "codes": {"entity_category": {"enterprise": "1"}},
     "datasets": {"500": {"fields": {"PROJECT_CODE": {"max_length": 18},
                                     "APPROVAL_NAME": {"required": false}}}}}
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from ggzy.core.errors import ValidationFailed

FIELD_TYPES = ("string", "date", "datetime", "number")
ENUMS: dict[str, tuple[str, ...]] = {  # cn-rules §2.2 (EnumMatchFieldValidator.cs)
    "TRUE_OR_FALSE": ("0", "1"),
    "PRICE_UNIT": ("0", "1"),
    "PRICE_FORM_CODE": ("1", "2", "3", "9"),
    "RELATE_CODE": ("0", "1"),
    "CQ_TRUE_OR_FALSE": ("F", "T"),
}
# what every row carries (cn-rules §11); works datasets (5xx, 9xxx) also the two TRADE_PLAT codes
COMMON_FIELDS = (
    ("PLATFORM_CODE", "交易系统标识码", 18),
    ("PUB_SERVICE_PLAT_CODE", "交易服务系统标识码", 18),
    ("DATA_TIMESTAMP", "数据时间戳", 14),
)
WORKS_FIELDS = (
    ("TRADE_PLAT", "交易平台或发布工具标识码", 11),
    ("PUB_SERVICE_PLAT", "公共服务平台标识码", 11),
)
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_FORMATS = {"date": re.compile(r"^[0-9]{8}$"), "datetime": re.compile(r"^[0-9]{14}$")}
_FIELD_SEP = re.compile(r"\);\s*(?=[A-Z][A-Z0-9_]*\*?\()")
_FIELD = re.compile(r"^([A-Z][A-Z0-9_]*)(\*?)\((.*?)\)?$")
_KEYS = ("type", "required", "max_length", "fixed", "choices")


class FieldConfigError(ValidationFailed):
    code = "bad_field_config"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    type: str
    required: bool
    max_length: int | None
    fixed: bool
    choices: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Dataset:
    no: str
    table: str
    label: str
    fields: tuple[Field, ...]
    works: bool

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass(frozen=True, slots=True)
class Refusal:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class FieldConfig:
    datasets: dict[str, Dataset]
    platform: dict[str, str]
    codes: dict[str, dict[str, str]]
    enforce_fixed_lengths: bool
    share_contacts: bool  # export contact persons (private on the platform) to the receiver
    digest: str  # SHA-256 of the effective configuration, recorded in each batch

    def dataset(self, no: str) -> Dataset:
        if no not in self.datasets:
            raise ValidationFailed(
                f"未知的数据集 (unknown dataset) {no}",
                code="unknown_dataset",
                detail={"dataset": no},
            )
        return self.datasets[no]

    def code(self, table: str, value: str) -> str:
        return self.codes.get(table, {}).get(value, "")

    def check(self, dataset: Dataset, row: dict[str, str]) -> list[Refusal]:
        """Every reason ``row`` does not fit ``dataset`` (empty: it fits). Nothing is cut."""
        out: list[Refusal] = []
        for f in dataset.fields:
            value = row.get(f.name, "")
            if value == "":
                if f.required:
                    out.append(Refusal(f.name, "missing", f"必填字段为空 (required) {f.name}"))
                continue
            if f.max_length is not None and len(value) > f.max_length:
                out.append(Refusal(f.name, "too_long",
                                   f"超过最大长度 {f.max_length} (too long: {len(value)})"))  # fmt: skip
            elif f.fixed and self.enforce_fixed_lengths and len(value) != f.max_length:
                out.append(Refusal(f.name, "wrong_length",
                                   f"长度应为 {f.max_length} (length {len(value)})"))  # fmt: skip
            if f.type in _FORMATS and not _FORMATS[f.type].match(value):
                out.append(Refusal(f.name, "bad_format", f"日期格式错误 (bad {f.type})"))
            if f.type == "number" and not _is_number(value):
                out.append(Refusal(f.name, "bad_number", "数值格式错误 (not a number)"))
            if f.choices is not None and value not in f.choices:
                out.append(Refusal(f.name, "not_allowed", f"取值不在 {list(f.choices)} 之内"))
        extra = sorted(set(row) - set(dataset.names))
        out.extend(Refusal(name, "unknown_field", "字段不属于该数据集 (unknown field)")
                   for name in extra)  # fmt: skip
        return out


def _is_number(value: str) -> bool:
    if not _NUMBER.match(value):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


# --- the field file -------------------------------------------------------------------------------


def parse_field_file(text: str) -> dict[str, dict[str, Any]]:
    """``data-exchange-fields.txt`` as the configuration's ``datasets`` mapping."""
    out: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("## "):
            no, table, label = line[3:].split(" ", 2)
            current = out[no] = {"table": table, "label": label, "fields": {}}
        elif line and current is not None:
            for piece in _FIELD_SEP.split(line):
                m = _FIELD.match(piece.strip())
                if m is None:
                    raise ValueError(f"cannot parse field {piece!r}")
                label, _, spec = m[3].partition(";")
                current["fields"][m[1]] = _field_spec(m[2] == "*", label, spec)
    return out


def _field_spec(required: bool, label: str, spec: str) -> dict[str, Any]:
    out: dict[str, Any] = {"label": label, "type": "string", "required": required,
                           "max_length": None, "fixed": False, "choices": None}  # fmt: skip
    if m := re.search(r"\bmax=([0-9]+)", spec):
        out["max_length"] = int(m[1])
    if m := re.search(r"\blen=([0-9]+)", spec):
        out["max_length"], out["fixed"] = int(m[1]), True
    if m := re.search(r"\bdate=(yyyyMMdd(HHmmss)?)", spec):
        out["type"] = "datetime" if m[2] else "date"
    elif "NumberMatch" in spec:
        out["type"] = "number"
    if m := re.search(r"'EnumType': '([A-Z_]+)'", spec):
        out["choices"] = list(ENUMS[m[1]]) if m[1] in ENUMS else None
    return out


# --- loading --------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    allowed = {"platform", "codes", "datasets", "enforce_fixed_lengths", "share_contacts"}
    for key in override:
        if key not in allowed:
            raise FieldConfigError(f"配置项无效 (unknown key) {key}", detail={"file": where})
    for name, value in override.get("platform", {}).items():
        if name not in out["platform"] or not isinstance(value, str):
            raise FieldConfigError(f"平台标识无效 (bad platform code) {name}")
        out["platform"][name] = value
    for table, values in override.get("codes", {}).items():
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise FieldConfigError(f"代码表无效 (bad code table) {table}")
        out["codes"].setdefault(table, {}).update(values)
    for flag in ("enforce_fixed_lengths", "share_contacts"):
        if flag in override:
            if not isinstance(override[flag], bool):
                raise FieldConfigError(f"配置项须为 true/false (not a boolean) {flag}")
            out[flag] = override[flag]
    for no, ds in override.get("datasets", {}).items():
        if no not in out["datasets"]:
            raise FieldConfigError(f"未知的数据集 (unknown dataset) {no}")
        for name, spec in ds.get("fields", {}).items():
            fields = out["datasets"][no]["fields"]
            if name not in fields or not isinstance(spec, dict) or set(spec) - set(_KEYS):
                raise FieldConfigError(f"字段配置无效 (bad field) {no}.{name}")
            fields[name].update(spec)
    return out


def _build(raw: dict[str, Any]) -> FieldConfig:
    datasets = {}
    for no, ds in raw["datasets"].items():
        works = no.startswith("5") or no.startswith("9")
        fields = [_field(no, name, spec) for name, spec in ds["fields"].items()]
        common = COMMON_FIELDS + (WORKS_FIELDS if works else ())
        fields += [Field(name, label, "datetime" if name == "DATA_TIMESTAMP" else "string",
                         True, n, True, None)
                   for name, label, n in common if name not in ds["fields"]]  # fmt: skip
        datasets[no] = Dataset(no, ds["table"], ds["label"], tuple(fields), works)
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return FieldConfig(datasets, dict(raw["platform"]), raw["codes"],
                       bool(raw.get("enforce_fixed_lengths", False)),
                       bool(raw.get("share_contacts", False)), digest)  # fmt: skip


def _field(no: str, name: str, spec: dict[str, Any]) -> Field:
    kind = spec.get("type", "string")
    max_length = spec.get("max_length")
    if kind not in FIELD_TYPES or not (
        max_length is None
        or (isinstance(max_length, int) and not isinstance(max_length, bool) and max_length > 0)
    ):
        raise FieldConfigError(f"字段配置无效 (bad field) {no}.{name}")  # fmt: skip
    choices = spec.get("choices")
    return Field(name, str(spec.get("label", "")), kind, bool(spec.get("required", False)),
                 max_length, bool(spec.get("fixed", False)),
                 tuple(str(c) for c in choices) if choices is not None else None)  # fmt: skip


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> FieldConfig:
    from ggzy.exchange.national_fields_data import DEFAULT

    if not path:
        return _build(DEFAULT)
    try:
        override = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FieldConfigError("无法读取字段配置文件 (cannot read the field file)",
                               detail={"file": path, "error": str(exc)}) from None  # fmt: skip
    if not isinstance(override, dict):
        raise FieldConfigError("字段配置文件须为 JSON 对象 (not an object)", detail={"file": path})
    return _build(_merge(DEFAULT, override, path))


def load() -> FieldConfig:
    """The effective configuration: the packaged default, with the override file if set."""
    path = getattr(settings, "GGZY_EXCHANGE_FIELDS", None)
    if not path:
        return _load("", 0.0)
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        mtime = -1.0
    return _load(str(path), mtime)
