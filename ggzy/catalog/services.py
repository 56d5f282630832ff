"""Catalog writes: install the default catalog, publish a ruleset version, set a category's
procedures. Each change is a ledger event; a published ruleset is never changed."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from ggzy.accounts.gate import require
from ggzy.catalog import defaults, rules
from ggzy.catalog.models import Category, Procedure, Ruleset
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.core.identifiers import TRADING_CATEGORY_CODES
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event


def _may_edit(actor: Any) -> None:
    if not (isinstance(actor, str) and actor.startswith("system:")):
        require(actor, "catalog.edit")


def install_default_catalog(*, actor: Any) -> int:
    """Create the default procedures and categories, each with its first ruleset (the law's
    values and the center's defaults). Idempotent: existing categories are left as they are.
    Returns the number of categories created."""
    _may_edit(actor)
    created = 0
    with transaction.atomic():
        for position, (code, name) in enumerate(defaults.PROCEDURES):
            Procedure.objects.get_or_create(
                code=code, defaults={"name": name, "position": position}
            )
        for position, (code, name, trading, text, procedures, keys) in enumerate(
            defaults.CATEGORIES
        ):
            if Category.objects.filter(code=code).exists():
                continue
            category = Category.objects.create(
                code=code,
                name=name,
                trading_category=trading,
                description=text,
                rule_keys=list(keys),
                position=position,
            )
            category.procedures.set(Procedure.objects.filter(code__in=procedures))
            _publish(actor, category, rules.defaults(list(keys)), "默认规则集 (default ruleset)")
            created += 1
        if created:
            append_event(
                actor=actor,
                event_type="catalog.installed",
                subject="catalog",
                payload={"categories": created},
            )
    return created


def publish_ruleset(
    *, actor: Any, category: Category, rules_: dict[str, Any], note: str = ""
) -> Ruleset:
    """Publish the next version of ``category``'s ruleset. Statutory rules must keep the law's
    values; live procedures keep the version they were created under."""
    _may_edit(actor)
    cleaned = rules.clean_rules(rules_, list(category.rule_keys))
    note = note.strip()
    if len(note) > 300:
        raise ValidationFailed("说明不超过300字 (note too long)", code="note_too_long")
    with transaction.atomic():
        return _publish(actor, category, cleaned, note)


def _publish(actor: Any, category: Category, cleaned: dict[str, Any], note: str) -> Ruleset:
    latest = category.rulesets.aggregate(v=Max("version"))["v"] or 0
    try:
        with transaction.atomic():
            ruleset = Ruleset.objects.create(
                category=category,
                version=latest + 1,
                rules=cleaned,
                note=note,
                published_at=clock.now(),
                published_by=actor_ref(actor),
            )
    except IntegrityError:  # another publication took this version number a moment ago
        raise Conflict(
            "规则集版本冲突，请重试 (a version was just published: retry)",
            code="ruleset_version_conflict",
        ) from None
    append_event(
        actor=actor,
        event_type="catalog.ruleset_published",
        subject=f"ruleset:{category.code}:{ruleset.version}",
        payload={"rules": cleaned, "note": note},
    )
    return ruleset


def set_procedures(*, actor: Any, category: Category, procedures: list[str]) -> Category:
    """Set the procedures a category allows (at least one, each a known procedure)."""
    _may_edit(actor)
    wanted = sorted(set(procedures))
    known = set(Procedure.objects.filter(code__in=wanted).values_list("code", flat=True))
    if not wanted or known != set(wanted):
        raise ValidationFailed(
            "交易方式无效 (unknown or no procedures)",
            code="bad_procedures",
            detail={"unknown": sorted(set(wanted) - known)},
        )
    with transaction.atomic():
        category.procedures.set(Procedure.objects.filter(code__in=wanted))
        append_event(
            actor=actor,
            event_type="catalog.procedures_set",
            subject=f"category:{category.code}",
            payload={"procedures": wanted},
        )
    return category


assert all(c[2] in TRADING_CATEGORY_CODES for c in defaults.CATEGORIES)
