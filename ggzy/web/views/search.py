"""The public search page (全文检索): a search box, the filters, ranked and highlighted results,
pages. A plain GET form and links: readable without JavaScript. It calls :func:`ggzy.disclosure.search.search`, as the API does."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from ggzy.catalog import selectors as catalog
from ggzy.catalog.models import Category
from ggzy.core.errors import ValidationFailed
from ggzy.disclosure import search
from ggzy.disclosure.models import RecordKind
from ggzy.web.views.common import region_choices

PAGE_SIZE = 20
FIELDS = ("q", "kind", "category", "region", "procedure", "date_from", "date_to")


class SearchForm(forms.Form):
    """Rendering only (unbound, filled from the query string): :func:`search.search` checks."""

    q = forms.CharField(label=_("检索词"), required=False, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("例如：朝阳区 施工"), "maxlength": 100}))  # fmt: skip
    kind = forms.ChoiceField(label=_("公开类别"), required=False)
    category = forms.ChoiceField(label=_("交易类别"), required=False)
    region = forms.ChoiceField(label=_("地区"), required=False)
    procedure = forms.ChoiceField(label=_("交易方式"), required=False)
    date_from = forms.DateField(label=_("发布日期自"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    date_to = forms.DateField(label=_("发布日期至"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = list(catalog.categories())
        choices: dict[str, list[tuple[str, Any]]] = {
            "kind": [("", _("全部类别")), *RecordKind.choices],
            "category": [("", _("全部交易类别")),
                         *((c.code, c.name) for c in categories)],
            "region": [("", _("全部地区")), *region_choices()],
            "procedure": [("", _("全部交易方式")), *procedure_choices(categories)],
        }  # fmt: skip
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options


def procedure_choices(categories: list[Category]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for category in categories:
        for p in category.procedures.all():
            seen.setdefault(p.code, p.name)
    return list(seen.items())


def _page_link(values: dict[str, str], page: int) -> str:
    return "?" + urlencode({**{k: v for k, v in values.items() if v}, "page": page})


def search_page(request: HttpRequest) -> HttpResponse:
    values = {name: request.GET.get(name, "") for name in FIELDS}
    context: dict[str, Any] = {"form": SearchForm(initial=values), "result": None, "error": None}
    status = 200
    if values["q"].strip():
        try:
            page_no = int(request.GET.get("page", "1") or "1")
        except ValueError:
            page_no = 1
        page_no = max(1, min(page_no, search.MAX_OFFSET // PAGE_SIZE + 1))
        try:
            result = search.search(**{k: v for k, v in values.items() if k != "q"},
                                   q=values["q"], limit=PAGE_SIZE,
                                   offset=(page_no - 1) * PAGE_SIZE)  # fmt: skip
        except ValidationFailed as exc:
            context["error"] = exc.message
            status = 400
        else:
            names = {code: name.strip("\u3000") for code, name in region_choices()}
            rows = [{"hit": h, "region": names.get(h.record.region, h.record.region)}
                    for h in result.hits]  # fmt: skip
            context.update(result=result, rows=rows, page_no=page_no,
                           prev_link=_page_link(values, page_no - 1) if page_no > 1 else "",
                           next_link=_page_link(values, page_no + 1)
                           if result.has_next else "")  # fmt: skip
    return render(request, "web/disclosure/search.html", context, status=status)
