"""The specialty taxonomy (评标专业分类), kept by the center: create, rename, (de)activate. Codes
carry the hierarchy (``A01.02`` under ``A01``), so a parent is named by the code itself; each
change is a new version with its ledger event on ``specialty:<code>``.

Works (R20) is inherited: a specialty is a works specialty when it or any ancestor is. The
stored ``is_works`` is kept so (a child of a works specialty cannot be created or changed as
non-works; reclassifying a parent as works reclassifies its subtree), and the R20 check reads
the ancestors too. Reclassifying is refused while experts in the pool with a specialty of the
subtree would then fail R20: staff settle those experts first."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.experts.models import SPECIALTY_CODE_REGEX, Expert, Specialty, SpecialtyVersion
from ggzy.experts.rules import works_eligibility
from ggzy.experts.states import ExpertStatus
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event

CODE_RE = re.compile(SPECIALTY_CODE_REGEX)


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("专业名称应为1–100个字符 (name 1–100 characters)",
                               code="bad_specialty_name", detail={"field": "name"})  # fmt: skip
    return name


def parent_code(code: str) -> str | None:
    """``A01.02`` → ``A01`` → ``A`` → none."""
    head, dot, _last = code.rpartition(".")
    if dot:
        return head
    return code[0] if len(code) > 1 else None


def lineage(code: str) -> list[str]:
    """The code and its ancestors' codes: ``A01.02`` → ``A01.02``, ``A01``, ``A``."""
    out = [code]
    while (parent := parent_code(out[-1])) is not None:
        out.append(parent)
    return out


def subtree_codes(code: str) -> list[str]:
    """The codes of the specialty and every specialty below it."""
    prefix = code if len(code) == 1 else f"{code}."
    return [code, *Specialty.objects.filter(code__startswith=prefix).values_list("code", flat=True)]


def _works_inherited(code: str) -> Conflict:
    return Conflict("上级专业为工程类，下级专业也是工程类（R20） (a works parent's child is works)",
                    code="works_inherited", detail={"field": "is_works", "specialty": code})  # fmt: skip


def _failing_r20(codes: list[str]) -> int:
    """How many experts in the pool with one of ``codes`` would fail R20 as works experts."""
    experts = (
        Expert.objects.filter(
            status__in=(ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED),
            specialty_rows__specialty__code__in=codes,
        )
        .distinct()
        .values_list("years_in_field", "title_level", "senior_equivalent")
    )
    return sum(
        not works_eligibility(works=True, years_in_field=y, title_level=t,
                              senior_equivalent=e).ok
        for y, t, e in experts
    )  # fmt: skip


def create_specialty(
    *, actor: Any, code: str, name: str, is_works: bool | None = None
) -> Specialty:
    """Add a specialty under its parent (which must exist). ``is_works`` defaults to the
    parent's (a child of a works specialty is a works specialty)."""
    require(actor, "experts.taxonomy")
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise ValidationFailed("专业代码格式应如 A01 或 A01.02 (bad code)", code="bad_specialty_code",
                               detail={"field": "code"})  # fmt: skip
    name = _name(name)
    with transaction.atomic():
        if Specialty.objects.filter(code=code).exists():
            raise Conflict("专业代码已存在 (code taken)", code="specialty_exists",
                           detail={"field": "code"})  # fmt: skip
        parent = None
        if (pcode := parent_code(code)) is not None:
            parent = Specialty.objects.select_for_update().filter(code=pcode).first()
            if parent is None:
                raise ValidationFailed(f"上级专业 {pcode} 不存在 (parent missing)",
                                       code="parent_not_found", detail={"field": "code"})  # fmt: skip
            if is_works is None:
                is_works = parent.is_works
            elif parent.is_works and not is_works:
                raise _works_inherited(code)
        now = clock.now()
        row = Specialty.objects.create(
            code=code, name=name, parent=parent, is_works=bool(is_works), updated_at=now
        )
        SpecialtyVersion.objects.create(
            specialty=row, version=1, changed_at=now, changed_by=actor_ref(actor),
            changes={"code": [None, code], "name": [None, name], "is_works": [None, row.is_works]},
        )  # fmt: skip
        append_event(actor=actor, event_type="experts.specialty_created", subject=f"specialty:{code}",
                     payload={"name": name, "parent": parent.code if parent else None,
                              "is_works": row.is_works})  # fmt: skip
    return row


def update_specialty(*, actor: Any, specialty: Specialty, name: str | None = None,
                     active: bool | None = None, is_works: bool | None = None) -> Specialty:  # fmt: skip
    """Rename, (de)activate or reclassify a specialty. A deactivated specialty takes no new
    experts; experts who have it keep it. A specialty with active children stays active.
    Reclassifying as works reclassifies the subtree (see the module's docstring)."""
    require(actor, "experts.taxonomy")
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = _name(name)
    if active is not None:
        wanted["active"] = bool(active)
    if is_works is not None:
        wanted["is_works"] = bool(is_works)
    with transaction.atomic():
        locked = Specialty.objects.select_for_update().get(pk=specialty.pk)
        diff = {k: [getattr(locked, k), v] for k, v in wanted.items() if getattr(locked, k) != v}
        if not diff:
            return locked
        if diff.get("active") == [True, False] and locked.children.filter(active=True).exists():
            raise Conflict("请先停用下级专业 (deactivate the children first)",
                           code="specialty_has_active_children")  # fmt: skip
        if diff.get("active") == [False, True] and locked.parent and not locked.parent.active:
            raise Conflict("上级专业已停用 (parent inactive)", code="parent_inactive")
        below: list[str] = []
        if diff.get("is_works") == [True, False] and locked.parent and locked.parent.is_works:
            raise _works_inherited(locked.code)
        if diff.get("is_works") == [False, True]:
            codes = subtree_codes(locked.code)
            if failing := _failing_r20(codes):
                raise Conflict(
                    f"有{failing}名在库专家不符合工程评标专家条件（R20），请先处理 "
                    "(experts in the pool would fail R20)",
                    code="reclassification_blocked",
                    detail={"rule": "R20", "experts": failing},
                )
            below = codes[1:]
        for key, (_old, new) in diff.items():
            setattr(locked, key, new)
        locked.version += 1
        locked.updated_at = clock.now()
        locked.save()
        SpecialtyVersion.objects.create(specialty=locked, version=locked.version,
                                        changed_at=locked.updated_at, changed_by=actor_ref(actor),
                                        changes=diff)  # fmt: skip
        append_event(actor=actor, event_type="experts.specialty_changed",
                     subject=f"specialty:{locked.code}",
                     payload={"version": locked.version, "changes": diff})  # fmt: skip
        for child in Specialty.objects.select_for_update().filter(code__in=below, is_works=False):
            _reclassify_as_works(actor, child, locked.code)
    return locked


def _reclassify_as_works(actor: Any, row: Specialty, by: str) -> None:
    row.is_works, row.version, row.updated_at = True, row.version + 1, clock.now()
    row.save()
    changes = {"is_works": [False, True]}
    SpecialtyVersion.objects.create(specialty=row, version=row.version, changed_at=row.updated_at,
                                    changed_by=actor_ref(actor), changes=changes)  # fmt: skip
    append_event(actor=actor, event_type="experts.specialty_changed",
                 subject=f"specialty:{row.code}",
                 payload={"version": row.version, "changes": changes, "inherited_from": by})  # fmt: skip


def get_specialty(code: str) -> Specialty:
    row = Specialty.objects.filter(code=(code or "").strip().upper()[:16]).first()
    if row is None:
        raise NotFound("评标专业不存在 (no such specialty)", code="specialty_not_found")
    return row
