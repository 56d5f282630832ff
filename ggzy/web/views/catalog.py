"""The public trading catalog page (交易目录)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ggzy.catalog import selectors
from ggzy.catalog.api import ruleset_out


def catalog(request: HttpRequest) -> HttpResponse:
    rows = []
    for category in selectors.categories():
        if not category.rulesets.all():
            continue
        ruleset = selectors.current_ruleset(category)
        rows.append(
            {"category": category, "ruleset": ruleset, "rules": ruleset_out(ruleset)["rules"]}
        )
    return render(request, "web/catalog.html", {"rows": rows})
