"""Forms for the expert-pool pages. They check only the shape of what was sent; every rule is
the services' (:mod:`ggzy.experts.checks`, R20), shown next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ggzy.experts.states import ExpertStatus, TitleLevel

IMPORT_MAX_BYTES = 10 << 20


class ExpertForm(forms.Form):
    """An application (the expert) or a direct entry (center staff)."""

    name = forms.CharField(label=_("姓名"), max_length=60)
    resident_id = forms.CharField(label=_("身份证号码"), max_length=24)
    phone = forms.CharField(label=_("手机"), max_length=20)
    email = forms.CharField(label=_("邮箱"), max_length=254, required=False)
    title_level = forms.ChoiceField(label=_("职称级别"), choices=TitleLevel.choices)
    title_name = forms.CharField(label=_("职称名称"), max_length=60,
                                 help_text=_("如：高级工程师、教授级高级工程师"))  # fmt: skip
    senior_equivalent = forms.CharField(
        label=_("同等专业水平说明"), max_length=200, required=False,
        help_text=_("工程类专家无高级职称时填写（R20）"),
    )  # fmt: skip
    years_in_field = forms.IntegerField(label=_("从业年限"), min_value=0, max_value=70)
    employer = forms.CharField(label=_("工作单位统一社会信用代码"), max_length=24)
    region = forms.ChoiceField(label=_("所在地区"))
    primary_specialty = forms.ChoiceField(label=_("主专业"))
    other_specialties = forms.MultipleChoiceField(label=_("其他专业"), required=False,
                                                  widget=forms.SelectMultiple(attrs={"size": 6}))  # fmt: skip

    def __init__(self, *args: Any, regions: list[tuple[str, str]],
                 specialties: list[tuple[str, str]], **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = regions  # type: ignore[attr-defined]
        self.fields["primary_specialty"].choices = specialties  # type: ignore[attr-defined]
        self.fields["other_specialties"].choices = specialties  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class AccountForm(forms.Form):
    username = forms.CharField(
        label=_("专家账户用户名"),
        max_length=150,
        help_text=_("专家本人注册的、具有评标专家角色的账户"),
    )


class SuspendForm(ReasonForm):
    until = forms.DateField(label=_("暂停至（含，留空为无限期）"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("事由"), max_length=200, required=False)


class ConflictForm(forms.Form):
    entity = forms.CharField(label=_("主体统一社会信用代码"), max_length=24)
    reason = forms.CharField(label=_("回避原因"), max_length=300)


class PoolFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/身份证号码/单位"), max_length=60, required=False)
    specialty = forms.ChoiceField(label=_("专业（含下级）"), required=False)
    region = forms.ChoiceField(label=_("地区（含下级）"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部")), *ExpertStatus.choices])  # fmt: skip

    def __init__(self, *args: Any, regions: list[tuple[str, str]],
                 specialties: list[tuple[str, str]], **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("全部")), *regions]  # type: ignore[attr-defined]
        self.fields["specialty"].choices = [("", _("全部")), *specialties]  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("专家信息表（.xlsx）"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))  # fmt: skip

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("文件过大（不超过 10 MB）。"), code="too_large")
        return b"".join(upload.chunks())
