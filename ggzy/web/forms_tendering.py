"""Forms for the tendering and bidding pages. As in :mod:`ggzy.web.forms`, they check only the
shape of what was typed; every rule is the service's, whose refusal :func:`show_error` puts
next to the field it names."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ggzy.bidding.states import DepositMethod
from ggzy.tendering.states import DocumentKind, EvaluationMethod, SubjectType

PROCEDURE_CHOICES = [("open_tender", _("公开招标")), ("invited_tender", _("邀请招标"))]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

# where a tendering refusal belongs when its detail names no field
FIELD_FOR_CODE = {
    "bad_file_type": "file",
    "bad_file_name": "file",
    "file_too_large": "file",
    "empty_file": "file",
    "bid_period_too_short": "bid_deadline",
    "bad_sale_period": "documents_until",
    "sale_period_too_short": "documents_until",
    "dates_required": "bid_deadline",
    "deposit_too_high": "deposit",
    "estimate_above_budget": "estimated_price",
    "max_price_above_budget": "max_price",
    "bad_criteria": "criteria",
    "bad_weights": "criteria",
    "bad_evaluation_method": "evaluation_method",
    "bad_bid_validity": "bid_validity_days",
    "bad_duration": "duration_days",
    "unknown_region": "region",
    "bad_investment_code": "investment_project_code",
    "not_a_tenderer": "tenderer",
    "not_an_agent": "agent",
    "procedure_not_allowed": "procedure",
    "procedure_not_supported": "procedure",
    "objection_too_late": "text",
}


def _datetime_local(label: Any, **kwargs: Any) -> forms.DateTimeField:
    """A ``datetime-local`` input, read in the platform's time zone (China Standard Time)."""
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        **kwargs,
    )


class JSONListField(forms.CharField):
    """A JSON list typed into a textarea (scoring criteria, extra sections)."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return []
        try:
            parsed = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("不是有效的 JSON。")) from None
        if not isinstance(parsed, list):
            raise forms.ValidationError(_("应为 JSON 数组 […]。"))
        return parsed


class ProjectForm(forms.Form):
    """A project with its first section inline; further sections as a JSON list."""

    name = forms.CharField(label=_("项目名称"), max_length=200)
    tenderer = forms.ChoiceField(label=_("招标人"))
    agent = forms.ChoiceField(label=_("招标代理机构（可选）"), required=False)
    category = forms.ChoiceField(label=_("交易目录类别"))
    procedure = forms.ChoiceField(label=_("交易方式"), choices=PROCEDURE_CHOICES)
    region = forms.ChoiceField(label=_("项目所在地区"))
    subject_type = forms.ChoiceField(label=_("标的类型"), choices=SubjectType.choices)
    investment_project_code = forms.CharField(
        label=_("投资项目代码"), max_length=24, required=False, help_text=_("工程建设项目必填")
    )
    funding_source = forms.CharField(label=_("资金来源"), max_length=120)
    state_controlled = forms.BooleanField(
        label=_("国有资金占控股或主导地位"),
        required=False,
        help_text=_("是：须确定排名第一的中标候选人为中标人（条例55）"),
    )
    budget = forms.DecimalField(label=_("项目预算/估算（元）"), max_digits=16, decimal_places=2)
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # the first section
    section_name = forms.CharField(label=_("标段名称"), max_length=200)
    estimated_price = forms.DecimalField(label=_("估算价（元）"), max_digits=16, decimal_places=2)
    max_price = forms.DecimalField(
        label=_("最高投标限价（元）"), max_digits=16, decimal_places=2, required=False
    )
    deposit = forms.DecimalField(
        label=_("投标保证金（元）"), max_digits=16, decimal_places=2, initial=0
    )
    qualification_requirements = forms.CharField(
        label=_("资格条件"), widget=forms.Textarea(attrs={"rows": 2})
    )
    evaluation_method = forms.ChoiceField(label=_("评标办法"), choices=EvaluationMethod.choices)
    criteria = JSONListField(
        label=_("评分因素及权重（JSON）"),
        required=False,
        help_text=_(
            '综合评估法填写，如 [{"name": "投标报价", "weight": "60", "kind": "price"}, …]'
        ),
    )
    bid_validity_days = forms.IntegerField(label=_("投标有效期（日）"), initial=90)
    duration_days = forms.IntegerField(label=_("工期/服务期（日）"), required=False)
    technically_complex = forms.BooleanField(
        label=_("技术复杂（政府采购：评标委员会不少于7人）"), required=False
    )
    high_social_impact = forms.BooleanField(
        label=_("社会影响较大（政府采购：评标委员会不少于7人）"), required=False
    )
    more_sections = JSONListField(
        label=_("其他标段（JSON，可选）"),
        required=False,
        help_text=_("每个标段一个对象，字段同上：name, estimated_price, deposit, …"),
    )

    SECTION_FIELDS = (
        "estimated_price", "max_price", "deposit", "qualification_requirements",
        "evaluation_method", "criteria", "bid_validity_days", "duration_days",
        "technically_complex", "high_social_impact",
    )  # fmt: skip

    def __init__(
        self,
        *args: Any,
        tenderers: list[tuple[str, str]],
        agents: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        regions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenderer"].choices = tenderers
        self.fields["agent"].choices = [("", _("（不委托代理）")), *agents]
        self.fields["category"].choices = categories
        self.fields["region"].choices = regions

    def sections(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        first: dict[str, Any] = {"name": data["section_name"]}
        for key in self.SECTION_FIELDS:
            value = data.get(key)
            if value is None or value == "":
                continue
            first[key] = str(value) if key in ("estimated_price", "max_price", "deposit") else value
        if first.get("evaluation_method") == EvaluationMethod.LOWEST_PRICE and not first.get(
            "criteria"
        ):
            first.pop("criteria", None)
        return [first, *data.get("more_sections", [])]

    @staticmethod
    def initial_from(project: Any) -> dict[str, Any]:
        sections = list(project.sections.all())
        first = sections[0]
        more = [
            {
                "name": s.name, "estimated_price": str(s.estimated_price),
                "max_price": str(s.max_price) if s.max_price is not None else None,
                "deposit": str(s.deposit), "qualification_requirements":
                s.qualification_requirements, "evaluation_method": s.evaluation_method,
                "criteria": s.criteria, "bid_validity_days": s.bid_validity_days,
                "duration_days": s.duration_days, "technically_complex": s.technically_complex,
                "high_social_impact": s.high_social_impact,
            }
            for s in sections[1:]
        ]  # fmt: skip
        return {
            "name": project.name,
            "tenderer": project.tenderer.uscc,
            "agent": project.agent.uscc if project.agent else "",
            "category": project.category_id,
            "procedure": project.procedure_id,
            "region": project.region_id,
            "subject_type": project.subject_type,
            "investment_project_code": project.investment_project_code,
            "funding_source": project.funding_source,
            "state_controlled": project.state_controlled,
            "budget": project.budget,
            "description": project.description,
            "section_name": first.name,
            "estimated_price": first.estimated_price,
            "max_price": first.max_price,
            "deposit": first.deposit,
            "qualification_requirements": first.qualification_requirements,
            "evaluation_method": first.evaluation_method,
            "criteria": json.dumps(first.criteria, ensure_ascii=False) if first.criteria else "",
            "bid_validity_days": first.bid_validity_days,
            "duration_days": first.duration_days,
            "technically_complex": first.technically_complex,
            "high_social_impact": first.high_social_impact,
            "more_sections": json.dumps(more, ensure_ascii=False) if more else "",
        }


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("文件类型"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("文件"), help_text=_("接受 .pdf .docx .txt .zip .dwg"))


class PublishForm(forms.Form):
    announcement = forms.CharField(label=_("招标公告"), widget=forms.Textarea(attrs={"rows": 6}))
    documents_until = _datetime_local(_("招标文件发售截止（北京时间）"))
    bid_deadline = _datetime_local(_("投标截止/开标时间（北京时间）"))


class ClarificationForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 4}))
    affects_bids = forms.BooleanField(
        label=_("可能影响投标文件编制（不足15日时顺延投标截止，R6）"), required=False, initial=True
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("退回理由"), widget=forms.Textarea(attrs={"rows": 2}))


class EntityChoiceForm(forms.Form):
    """A form acting for one of the signed-in person's entities."""

    entity = forms.ChoiceField(label=_("投标人"))

    def __init__(self, *args: Any, entities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = entities


class ObjectionForm(EntityChoiceForm):
    text = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 3}))


class DepositForm(EntityChoiceForm):
    method = forms.ChoiceField(label=_("缴纳方式"), choices=DepositMethod.choices)
    exemption_reason = forms.CharField(label=_("免缴理由"), max_length=300, required=False)


class BidUploadForm(forms.Form):
    envelope = forms.FileField(
        label=_("加密投标文件（ggzy-client seal 生成的 .zip）"),
        help_text=_("平台只保存密文；开标时由您本人提交解密密钥。"),
    )
    replace = forms.BooleanField(label=_("替换我在本标段的现有投标文件"), required=False)


class ContentKeyForm(forms.Form):
    content_key = forms.CharField(
        label=_("解密密钥（ggzy-client unwrap 输出的十六进制串）"),
        max_length=256,
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocomplete": "off", "class": "mono"}
        ),
    )

    def clean_content_key(self) -> bytes:
        value = "".join(self.cleaned_data["content_key"].split())
        try:
            key = bytes.fromhex(value)
        except ValueError:
            raise forms.ValidationError(_("应为十六进制串。")) from None
        if not key:
            raise forms.ValidationError(_("应为十六进制串。"))
        return key


class OpeningObjectionForm(forms.Form):
    text = forms.CharField(label=_("现场异议"), widget=forms.Textarea(attrs={"rows": 2}))


class OpeningAnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 2}))


class ProjectFilterForm(forms.Form):
    q = forms.CharField(label=_("项目名称或交易编码"), required=False, max_length=100)
    category = forms.ChoiceField(label=_("类别"), required=False)

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("全部")), *categories]
