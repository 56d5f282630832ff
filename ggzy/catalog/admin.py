"""Back office for the catalog: staff read it; center admins publish a new ruleset version from
a form with one field per rule (statutory rules shown, fixed to the law's value)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ggzy.accounts.admin_gate import ReadOnlyAdmin, _gate
from ggzy.catalog import rules, services
from ggzy.catalog.models import Category, Procedure, Ruleset
from ggzy.core.errors import DomainError


class RulesetInline(admin.TabularInline):
    model = Ruleset
    extra = 0
    can_delete = False
    fields = ("version", "published_at", "published_by", "note", "rules")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


def ruleset_form(category: Category, current: dict[str, Any]) -> type[forms.Form]:
    """A form with a field per rule of ``category``, prefilled with the current values."""
    fields: dict[str, forms.Field] = {}
    for key in category.rule_keys:
        spec = rules.SPECS[key]
        label = f"{spec.label}（{spec.rule or '中心规定'}）"
        help_text = f"{spec.source}" + ("；法定，不可更改" if spec.statutory else "")
        field: forms.Field
        if spec.kind == rules.FLAG:
            field = forms.BooleanField(label=label, required=False, help_text=help_text)
        elif spec.kind in (rules.RATIO, rules.YUAN):
            field = forms.DecimalField(label=label, help_text=help_text)
        else:
            field = forms.IntegerField(label=label, help_text=help_text)
        field.initial = current.get(key)
        field.disabled = spec.statutory
        fields[key] = field
    fields["note"] = forms.CharField(label="说明 (note)", max_length=300, required=False)
    return type("RulesetForm", (forms.Form,), fields)


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "trading_category", "current_version")
    inlines = [RulesetInline]
    change_form_template = "admin/catalog/category/change_form.html"

    @admin.display(description="当前规则集版本")
    def current_version(self, obj: Category) -> int | None:
        latest = obj.rulesets.order_by("-version").first()
        return latest.version if latest else None

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.publish_view)
        return [
            path("<str:code>/publish/", view, name="catalog_category_publish"),
            *super().get_urls(),
        ]

    def publish_view(self, request: HttpRequest, code: str) -> HttpResponse:
        if not _gate(request, "catalog.edit"):
            return HttpResponse(status=403)
        category = get_object_or_404(Category, code=code)
        latest = category.rulesets.order_by("-version").first()
        form_class = ruleset_form(category, latest.rules if latest else {})
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            note = data.pop("note", "")
            values = {k: str(v) if not isinstance(v, bool | int) else v for k, v in data.items()}
            try:
                published = services.publish_ruleset(
                    actor=request.user, category=category, rules_=values, note=note
                )
            except DomainError as exc:
                form.add_error(
                    exc.detail.get("rule")
                    if isinstance(exc.detail, dict) and exc.detail.get("rule") in form.fields
                    else None,
                    f"{exc.message} [{exc.code}]",
                )
            else:
                messages.success(request, f"已发布规则集 v{published.version}")
                return HttpResponseRedirect(reverse("admin:catalog_category_change", args=[code]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"发布规则集：{category.name}",
            "category": category,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/category/publish.html", context)


@admin.register(Procedure)
class ProcedureAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")


@admin.register(Ruleset)
class RulesetAdmin(ReadOnlyAdmin):
    list_display = ("category", "version", "published_at", "published_by", "note")
    list_filter = ("category",)
