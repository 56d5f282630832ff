"""The public trading catalog page (交易目录)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ggzy.catalog import selectors


def catalog(request: HttpRequest) -> HttpResponse:
    rows = []
    for category in selectors.categories():
        if not category.rulesets.all():
            continue
        ruleset = selectors.current_ruleset(category)
        rows.append(
            {
                "category": category,
                "ruleset": ruleset,
                "rules": selectors.ruleset_view(ruleset)["rules"],
            }
        )
    return render(request, "web/catalog.html", {"rows": rows})
