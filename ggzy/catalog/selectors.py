"""Catalog reads. The catalog is public."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from ggzy.catalog import rules
from ggzy.catalog.models import Category, Ruleset
from ggzy.core.errors import NotFound


def categories() -> QuerySet[Category]:
    """Every category with its procedures and its rulesets (newest first)."""
    return Category.objects.prefetch_related(
        "procedures", Prefetch("rulesets", queryset=Ruleset.objects.order_by("-version"))
    )


def get_category(code: str) -> Category:
    category = categories().filter(code=code).first()
    if category is None:
        raise NotFound("交易目录类别不存在 (no such category)", code="category_not_found")
    return category


def current_ruleset(category: Category) -> Ruleset:
    """The latest published version (what a new project is created under)."""
    ruleset = next(iter(category.rulesets.all()), None)  # prefetched newest first
    if ruleset is None:
        raise NotFound("该类别尚无规则集 (no ruleset yet)", code="ruleset_not_found")
    return ruleset


def get_ruleset(category: Category, version: int) -> Ruleset:
    ruleset = next((r for r in category.rulesets.all() if r.version == version), None)
    if ruleset is None:
        raise NotFound("规则集版本不存在 (no such ruleset version)", code="ruleset_not_found")
    return ruleset


def ruleset_view(ruleset: Ruleset) -> dict[str, Any]:
    """A ruleset as shown everywhere (API, page, CLI): each rule with its label and source."""
    return {
        "version": ruleset.version,
        "published_at": ruleset.published_at,
        "published_by": ruleset.published_by,
        "note": ruleset.note,
        "rules": [
            {
                "key": key,
                "label": rules.SPECS[key].label,
                "kind": rules.SPECS[key].kind,
                "rule": rules.SPECS[key].rule,
                "source": rules.SPECS[key].source,
                "statutory": rules.SPECS[key].statutory,
                "value": value,
            }
            for key, value in ruleset.rules.items()
        ],
    }
