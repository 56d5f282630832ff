"""Cleaning an expert's fields — shared by the services (first error raised) and the Excel import
(every error of every row collected). Each check raises ``ValidationFailed`` whose detail names
the field, so a form, an API client and an import report all point at the same place."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ggzy.core.errors import ValidationFailed
from ggzy.core.identifiers import IdentifierError, validate_resident_id, validate_uscc
from ggzy.experts.models import Specialty
from ggzy.experts.rules import works_eligibility
from ggzy.experts.states import TitleLevel
from ggzy.experts.taxonomy import lineage
from ggzy.registry.models import Entity, EntityStatus, Region

PHONE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")
MAX_YEARS = 70
MAX_SPECIALTIES = 10
TEXT_LIMITS = {
    "name": 60,
    "title_name": 60,
    "senior_equivalent": 200,
    "email": 254,
    "comment": 1000,
    "session_ref": 64,
    "reason": 300,
}
# names a spreadsheet would read as a formula if typed: refused, so an export never carries one
NAME_FIELDS = frozenset({"name", "title_name"})
FORMULA_START = ("=", "+", "-", "@")


@dataclass
class ExpertData:
    """What an application, a staff entry or an import row says about an expert."""

    name: str
    resident_id: str
    phone: str
    title_level: str
    title_name: str
    years_in_field: Any
    employer: str  # USCC of a registered entity
    region: str  # region code
    primary_specialty: str  # specialty code
    other_specialties: list[str] = field(default_factory=list)
    senior_equivalent: str = ""
    email: str = ""


FIELDS = (
    "name",
    "resident_id",
    "phone",
    "email",
    "title_level",
    "title_name",
    "senior_equivalent",
    "years_in_field",
    "employer",
    "region",
    "primary_specialty",
    "other_specialties",
)


def _refuse(key: str, code: str, message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail={"field": key, **detail})


def text(key: str, value: Any, *, required: bool = True) -> str:
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise _refuse(key, "required", f"{key} 不能为空 (required)")
    if len(out) > TEXT_LIMITS.get(key, 200):
        raise _refuse(key, "too_long", f"{key} 过长 (too long)")
    if "\x00" in out:
        raise _refuse(key, "nul_character", "含有空字符 (NUL character)")
    if key in NAME_FIELDS and out.startswith(FORMULA_START):
        raise _refuse(key, "formula_character",
                      f"{key} 不能以 = + - @ 开头 (must not start with = + - @)")  # fmt: skip
    return out


def resident_id(value: Any) -> str:
    try:
        return validate_resident_id(text("resident_id", value))
    except IdentifierError as exc:
        raise ValidationFailed(
            exc.message, code="bad_resident_id", detail={"field": "resident_id", "check": exc.check}
        ) from None


def phone(value: Any) -> str:
    out = text("phone", value)
    if not PHONE_RE.match(out):
        raise _refuse("phone", "bad_phone", "手机/电话号码格式有误 (bad phone number)")
    return out


def title_level(value: Any) -> str:
    out = text("title_level", value)
    by_label = {str(label): code for code, label in TitleLevel.choices}
    out = by_label.get(out, out)
    if out not in TitleLevel.values:
        raise _refuse(
            "title_level",
            "bad_title_level",
            "职称级别应为 正高、副高、中级 或 初级 (unknown title level)",
        )
    return out


def years(value: Any) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= MAX_YEARS:
        raise _refuse(
            "years_in_field",
            "bad_years",
            f"从业年限应为0–{MAX_YEARS}的整数 (whole years, 0–{MAX_YEARS})",
        )
    return value


def employer(value: Any) -> Entity:
    try:
        code = validate_uscc(text("employer", value))
    except IdentifierError as exc:
        raise ValidationFailed(
            exc.message, code="bad_uscc", detail={"field": "employer", "check": exc.check}
        ) from None
    entity = Entity.objects.filter(uscc=code).first()
    if entity is None:
        raise _refuse(
            "employer",
            "employer_not_registered",
            f"工作单位 {code} 未在市场主体库注册 (employer not registered)",
        )
    if entity.status != EntityStatus.ACTIVE:
        raise _refuse("employer", "employer_suspended", "工作单位已暂停 (employer suspended)")
    return entity


def region(value: Any) -> Region:
    code = text("region", value)
    found = Region.objects.filter(code=code).first() if len(code) == 6 else None
    if found is None:
        raise _refuse("region", "unknown_region", f"未登记的行政区划 {code} (unknown region)")
    return found


def specialty(
    value: Any, key: str = "primary_specialty", kept: frozenset[str] = frozenset()
) -> Specialty:
    """The specialty of a code. A deactivated one takes no new experts; ``kept``: the codes the
    expert already has, which they keep even when deactivated."""
    code = text(key, value).upper()
    found = Specialty.objects.filter(code=code).first()
    if found is None:
        raise _refuse(key, "unknown_specialty", f"评标专业 {code} 不存在 (unknown specialty)",
                      specialty=code)  # fmt: skip
    if not found.active and code not in kept:
        raise _refuse(key, "specialty_inactive", f"评标专业 {code} 已停用 (inactive specialty)",
                      specialty=code)  # fmt: skip
    return found


def specialties(
    primary: Specialty, others: Any, kept: frozenset[str] = frozenset()
) -> list[Specialty]:
    """The primary specialty first, then the others (a list, or codes separated by , ， 、 or ;)."""
    if isinstance(others, str):
        others = [c for c in re.split(r"[,，、;；\s]+", others) if c]
    if others is None:
        others = []
    if not isinstance(others, list | tuple):
        raise _refuse("other_specialties", "bad_specialties", "其他专业格式有误")
    found = [specialty(c, "other_specialties", kept) for c in others]
    out = [primary, *found]
    if len({s.pk for s in out}) != len(out):
        raise _refuse("other_specialties", "duplicate_specialty", "专业重复 (specialty repeated)")
    if len(out) > MAX_SPECIALTIES:
        raise _refuse("other_specialties", "too_many_specialties",
                      f"最多{MAX_SPECIALTIES}个专业 (at most {MAX_SPECIALTIES})")  # fmt: skip
    return out


def is_works(chosen: list[Specialty]) -> bool:
    """Whether any chosen specialty, or an ancestor of one, is a works specialty (R20)."""
    if any(s.is_works for s in chosen):
        return True
    ancestors = {code for s in chosen for code in lineage(s.code)[1:]}
    return bool(ancestors) and Specialty.objects.filter(code__in=ancestors, is_works=True).exists()


def eligible(values: dict[str, Any]) -> None:
    """R20 for a works expert; the refusal names each unmet condition."""
    result = works_eligibility(
        works=is_works(values["specialties"]),
        years_in_field=values["years_in_field"],
        title_level=values["title_level"],
        senior_equivalent=values["senior_equivalent"],
    )
    if not result.ok:
        raise ValidationFailed(
            "不符合工程评标专家条件：从事相关专业领域工作满8年并具有高级职称或同等专业水平（R20） "
            "(not eligible as a works expert)",
            code="expert_ineligible",
            detail={
                "rule": "R20",
                "unmet": list(result.unmet),
                "field": "years_in_field" if "years_in_field" in result.unmet else "title_level",
                "years_in_field": values["years_in_field"],
                "title_level": values["title_level"],
            },
        )


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: text("name", v),
    "resident_id": resident_id,
    "phone": phone,
    "email": lambda v: text("email", v, required=False),
    "title_level": title_level,
    "title_name": lambda v: text("title_name", v),
    "senior_equivalent": lambda v: text("senior_equivalent", v, required=False),
    "years_in_field": years,
    "employer": employer,
    "region": region,
    "primary_specialty": specialty,
}


def clean(data: ExpertData, kept: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every field cleaned, the first error raised. ``specialties``: primary first. ``kept``:
    the specialty codes the expert already has (see ``specialty``)."""
    cleaners = CLEANERS | {"primary_specialty": lambda v: specialty(v, kept=kept)}
    values = {key: cleaners[key](getattr(data, key)) for key in cleaners}
    values["specialties"] = specialties(values["primary_specialty"], data.other_specialties, kept)
    return values
