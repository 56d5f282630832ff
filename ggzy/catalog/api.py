"""The public trading catalog, and its edits by the center (publish a ruleset, set procedures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field

from ggzy.api import PUBLIC
from ggzy.catalog import selectors, services
from ggzy.catalog.models import Category
from ggzy.core.schemas import ErrorOut, StrictSchema

router = Router(tags=["catalog"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


class RuleOut(StrictSchema):
    key: str
    label: str
    kind: str
    rule: str
    source: str
    statutory: bool
    value: Any


class RulesetOut(StrictSchema):
    version: int
    published_at: datetime
    published_by: str
    note: str
    rules: list[RuleOut]


class CategoryOut(StrictSchema):
    code: str
    name: str
    trading_category: str
    description: str
    procedures: list[dict[str, str]]
    current: RulesetOut
    versions: list[int]


class RulesetIn(StrictSchema):
    rules: dict[str, Any]
    note: str = Field("", max_length=300)


class ProceduresIn(StrictSchema):
    procedures: list[str] = Field(..., min_length=1, max_length=20)


def category_out(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "trading_category": category.trading_category,
        "description": category.description,
        "procedures": [{"code": p.code, "name": p.name} for p in category.procedures.all()],
        "current": selectors.ruleset_view(selectors.current_ruleset(category)),
        "versions": [r.version for r in category.rulesets.all()],
    }


@router.get("", response=list[CategoryOut], auth=PUBLIC)
def catalog(request: HttpRequest) -> list[dict[str, Any]]:
    """The trading catalog (交易目录): categories, procedures, current rulesets. Public."""
    return [category_out(c) for c in selectors.categories() if c.rulesets.all()]


@router.get("/{category}", response={200: CategoryOut, 404: ErrorOut}, auth=PUBLIC)
def category(request: HttpRequest, category: str) -> Any:
    return category_out(selectors.get_category(category))


@router.get(
    "/{category}/rulesets/{int:version}", response={200: RulesetOut, 404: ErrorOut}, auth=PUBLIC
)
def ruleset(request: HttpRequest, category: str, version: int) -> Any:
    """A past or current ruleset version: what a project created under it follows."""
    return selectors.ruleset_view(selectors.get_ruleset(selectors.get_category(category), version))


@router.post("/{category}/rulesets", response={201: RulesetOut, **ERRORS})
def publish(request: HttpRequest, category: str, payload: RulesetIn) -> Any:
    """Publish the next ruleset version (center staff). Statutory rules keep the law's value."""
    published = services.publish_ruleset(
        actor=request.auth,  # type: ignore[attr-defined]
        category=selectors.get_category(category),
        rules_=payload.rules,
        note=payload.note,
    )
    return Status(201, selectors.ruleset_view(published))


@router.put("/{category}/procedures", response={200: CategoryOut, **ERRORS})
def set_procedures(request: HttpRequest, category: str, payload: ProceduresIn) -> Any:
    services.set_procedures(
        actor=request.auth,  # type: ignore[attr-defined]
        category=selectors.get_category(category),
        procedures=payload.procedures,
    )
    return category_out(selectors.get_category(category))
