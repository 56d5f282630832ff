"""Forms for the evaluation pages. They check only the shape of what was sent; every rule is
the services' (committee size, ranges and steps, reasons), shown next to the field it names."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CreateSessionForm(forms.Form):
    section = forms.CharField(label=_("标段编号（public id）"), max_length=32)


class CommitteeForm(forms.Form):
    draw = forms.CharField(
        label=_("专家抽取编号（已揭示；确认的专家全部入会）"), max_length=32, required=False,
    )  # fmt: skip
    experts = forms.CharField(
        label=_("或：评标专家（抽取并确认的专家编号，每行一个）"), required=False,
        widget=forms.Textarea(attrs={"rows": 6}), max_length=2000,
    )  # fmt: skip
    chair = forms.CharField(
        label=_("主任委员（专家编号或招标人代表用户名；按抽取组建时可空）"), max_length=150,
        required=False,
    )  # fmt: skip
    tenderer_reps = forms.CharField(
        label=_("招标人代表（用户名，每行一个；仅工程招标）"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}), max_length=500,
    )  # fmt: skip

    @staticmethod
    def lines(value: str) -> list[str]:
        return [x.strip() for x in value.replace(",", "\n").splitlines() if x.strip()]


class VoteForm(forms.Form):
    agrees = forms.TypedChoiceField(
        label=_("意见"), coerce=lambda v: v == "yes",
        choices=[("yes", _("确认自动检查结果")), ("no", _("推翻（须说明理由）"))],
        widget=forms.RadioSelect,
    )  # fmt: skip
    reason = forms.CharField(label=_("理由"), max_length=500, required=False)


class ScoreSheetForm(forms.Form):
    """One bid document's scores: ``points_<criterion>`` and ``note_<criterion>`` per criterion."""

    def __init__(self, *args: Any, criteria: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for c in criteria:
            self.fields[f"points_{c['id']}"] = forms.CharField(
                label=f"{c['name']}（{c['min']}–{c['max']}，步长 {c['step']}）", max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
            )  # fmt: skip
            self.fields[f"note_{c['id']}"] = forms.CharField(
                label=_("评分理由"), max_length=1000, required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )  # fmt: skip
        self.criteria = criteria


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=500)


class LowPriceForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("委员会意见"), coerce=lambda v: v == "yes",
        choices=[("yes", _("说明合理，接受")), ("no", _("不能合理说明，作无效投标"))],
        widget=forms.RadioSelect,
    )  # fmt: skip
    note = forms.CharField(label=_("审查意见"), max_length=500)


class SignatureForm(forms.Form):
    sigfile = forms.CharField(
        label=_("签名文件（ggzy-client sign 生成的 ggzy-sig/1 JSON）"),
        widget=forms.Textarea(attrs={"rows": 6}), max_length=200_000,
    )  # fmt: skip

    def clean_sigfile(self) -> dict[str, Any]:
        try:
            data = json.loads(self.cleaned_data["sigfile"])
        except ValueError:
            raise forms.ValidationError(_("签名文件不是有效的 JSON")) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("签名文件格式错误"))
        return data
