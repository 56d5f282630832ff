"""The terms of a draw request, checked before anything is stored: the quotas (specialties,
counts, backups, minimum from other regions), the regions, and that the section's opening was
held (the bidders must be known to be avoided)."""

from __future__ import annotations

from dataclasses import dataclass

from ggzy.bidding.models import Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.core.errors import Conflict
from ggzy.experts.draw_record import refuse
from ggzy.experts.models import Specialty
from ggzy.registry.models import Region
from ggzy.tendering.models import Section

MAX_QUOTAS = 10
MAX_COUNT = 49
MAX_AVOID_DAYS = 1095


@dataclass
class QuotaTerms:
    specialty: str
    count: int
    backups: int = 0
    min_other_regions: int = 0


def regions(codes: list[str], field: str) -> list[str]:
    out: list[str] = []
    for raw in codes:
        code = str(raw).strip()
        if code not in out:
            out.append(code)
    known = (
        set(Region.objects.filter(code__in=out).values_list("code", flat=True)) if out else set()
    )
    for code in out:
        if code not in known:
            raise refuse(
                f"未登记的行政区划 {code} (unknown region)", "unknown_region", field, region=code
            )
    return out


def quota_terms(quotas: list[QuotaTerms]) -> list[tuple[QuotaTerms, Specialty]]:
    if not quotas:
        raise refuse("至少一个专业名额 (at least one quota)", "no_quotas", "quotas")
    if len(quotas) > MAX_QUOTAS:
        raise refuse(f"最多{MAX_QUOTAS}个专业名额", "too_many_quotas", "quotas")
    out: list[tuple[QuotaTerms, Specialty]] = []
    codes = [str(q.specialty).strip().upper() for q in quotas]
    known = {s.code: s for s in Specialty.objects.filter(code__in=codes)}
    for n, q in enumerate(quotas):
        code = codes[n]
        found = known.get(code)
        if found is None:
            raise refuse(
                f"评标专业 {code} 不存在 (unknown specialty)",
                "unknown_specialty",
                "quotas",
                quota=n,
                specialty=code,
            )
        if not found.active:
            raise refuse(
                f"评标专业 {code} 已停用 (inactive specialty)",
                "specialty_inactive",
                "quotas",
                quota=n,
                specialty=code,
            )
        if any(s.pk == found.pk for _, s in out):
            raise refuse(
                f"专业 {code} 重复 (quota repeated)",
                "duplicate_quota",
                "quotas",
                quota=n,
                specialty=code,
            )
        for value, name, low in (
            (q.count, "count", 1),
            (q.backups, "backups", 0),
            (q.min_other_regions, "min_other_regions", 0),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not low <= value <= MAX_COUNT
            ):
                raise refuse(
                    f"{name} 应为{low}–{MAX_COUNT}的整数", "bad_quota", "quotas", quota=n, item=name
                )
        if q.min_other_regions > q.count:
            raise refuse(
                "外地人数不能多于名额 (more from other regions than the quota)",
                "bad_quota",
                "quotas",
                quota=n,
                item="min_other_regions",
            )
        out.append((q, found))
    return out


def check_section(section: Section) -> None:
    opening = Opening.objects.filter(section=section).first()
    if opening is None:
        raise Conflict(
            "开标后方可抽取专家：投标人须已知以便回避 (draw after the opening, when the "
            "bidders are known)",
            code="opening_not_held",
        )
    if opening.status == OpeningStatus.FAILED or section.failed_at is not None:
        raise Conflict("该标段已流标 (the section has failed)", code="section_failed")
