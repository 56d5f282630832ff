"""The specialty taxonomy (评标专业分类), kept by the center: create, rename, (de)activate. Codes
carry the hierarchy (``A01.02`` under ``A01``), so a parent is named by the code itself; each
change is a new version with its ledger event on ``specialty:<code>``."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.experts.models import SPECIALTY_CODE_REGEX, Specialty, SpecialtyVersion
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
    experts; experts who have it keep it. A specialty with active children stays active."""
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
    return locked


def get_specialty(code: str) -> Specialty:
    row = Specialty.objects.filter(code=(code or "").strip().upper()[:16]).first()
    if row is None:
        raise NotFound("评标专业不存在 (no such specialty)", code="specialty_not_found")
    return row
