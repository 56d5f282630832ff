"""Back office for the fair-competition review: center admins maintain the rule list (each save
goes through ``services.save_rule``: a new version and a ledger event); reviews and findings are
read-only here (reasons are recorded on the project's report page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from ggzy.accounts.admin_gate import GatedAdmin, ReadOnlyAdmin
from ggzy.core.errors import DomainError
from ggzy.fairness import services
from ggzy.fairness.models import FairnessRule, Finding, Review


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class RuleForm(forms.ModelForm):
    patterns_text = forms.CharField(
        label="匹配式（每行一条正则表达式）", widget=forms.Textarea(attrs={"rows": 6})
    )
    exclude_text = forms.CharField(
        label="排除式（每行一条；条款匹配任一条即不报）",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    class Meta:
        model = FairnessRule
        fields = ("code", "title", "source", "source_text", "severity", "active", "position")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["patterns_text"].initial = "\n".join(self.instance.patterns)
            self.fields["exclude_text"].initial = "\n".join(self.instance.exclude_patterns)

    def data_for_service(self) -> services.RuleData:
        d = self.cleaned_data
        return services.RuleData(
            code=d["code"],
            title=d["title"],
            patterns=_lines(d["patterns_text"]),
            exclude_patterns=_lines(d.get("exclude_text", "")),
            source=d["source"],
            source_text=d.get("source_text", ""),
            severity=d["severity"],
            active=d["active"],
            position=d.get("position") or 0,
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            services.clean_rule(self.data_for_service())
        except DomainError as exc:
            raise ValidationError(f"{exc.message} [{exc.code}] {exc.detail or ''}") from None
        return cleaned


@admin.register(FairnessRule)
class FairnessRuleAdmin(GatedAdmin):
    change_permission_name = "fairness.edit_rules"
    form = RuleForm
    list_display = ("code", "title", "severity", "active", "version", "source", "updated_at")
    list_filter = ("severity", "active")
    search_fields = ("code", "title", "source")
    readonly_fields = ("version", "updated_at", "updated_by")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = services.save_rule(actor=request.user, data=form.data_for_service())
        except DomainError as exc:  # pragma: no cover - form.clean checked the same
            messages.error(request, f"{exc.message} [{exc.code}]")
            return
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # no relations; the service saved everything


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    can_delete = False
    fields = ("rule", "severity", "document_name", "clause", "resolution", "reason", "resolved_by")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("project", "created_at", "created_by", "rules_digest")
    inlines = [FindingInline]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("rule", "severity", "resolution", "document_name", "review")
    list_filter = ("severity", "resolution", "rule")
