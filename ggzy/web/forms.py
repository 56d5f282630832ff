"""Portal forms: they parse what a person typed into the typed inputs the services take.

Forms check only the shape of the input (present, a date, a number). Every domain rule — USCC
checksum, region registered, at least one market role — is the service's, and its refusal comes
back as a :class:`DomainError` that :func:`show_error` puts next to the field it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from ggzy.accounts.roles import Role
from ggzy.core.errors import DomainError
from ggzy.core.identifiers import IdentifierError, validate_resident_id, validate_uscc
from ggzy.registry.models import EntityType, MemberRole
from ggzy.registry.services import ContactData, EntityData, QualificationData

MARKET_ROLE_CHOICES = [(r.value, r.label) for r in (Role.BIDDER, Role.TENDERER, Role.AGENT)]

# Where a refusal without ``detail["field"]`` belongs on the form.
_FIELD_FOR_IDENTIFIER = {
    "uscc": "uscc",
    "resident_id": "legal_representative_id",
    "region": "region",
}
_FIELD_FOR_CODE = {
    "uscc_taken": "uscc",
    "username_taken": "username",
    "weak_password": "password",
    "unknown_region": "region",
    "bad_token_name": "name",
    "user_not_found": "username",
    "already_member": "username",
    "qualification_exists": "number",
}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def error_field(exc: DomainError) -> str | None:
    """The form field a refusal is about, if it names one."""
    if isinstance(exc, IdentifierError):
        return _FIELD_FOR_IDENTIFIER.get(exc.kind)
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("field"), str):
        return str(exc.detail["field"])
    return _FIELD_FOR_CODE.get(exc.code)


def show_error(exc: DomainError, *all_forms: forms.Form) -> None:
    """Put a service's refusal on the first form that has the field it names (else on the first
    form as a whole). Password rules arrive as a list of messages; each is shown."""
    field = error_field(exc)
    messages: list[str] = (
        [str(m) for m in exc.detail]
        if exc.code == "weak_password" and isinstance(exc.detail, list)
        else [exc.message]
    )
    target = next((f for f in all_forms if field and field in f.fields), None)
    for message in messages:
        if target is not None:
            target.add_error(field, message)
        else:
            all_forms[0].add_error(None, message)


# --- accounts ------------------------------------------------------------------------------


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(
        label=_("密码"), max_length=256, strip=False, widget=forms.PasswordInput
    )


class SignupForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        min_length=3,
        max_length=150,
        validators=[RegexValidator(r"^[A-Za-z0-9_.@+-]+$", _("只能使用字母、数字和 _ . @ + -"))],
        help_text=_("用于登录，3–150 个字符"),
    )
    display_name = forms.CharField(label=_("姓名"), max_length=60)
    role = forms.ChoiceField(
        label=_("市场角色"), choices=MARKET_ROLE_CHOICES, widget=forms.RadioSelect
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput,
        help_text=_("至少 8 位，不能过于简单或与用户名相似"),
    )
    password_confirm = forms.CharField(
        label=_("确认密码"), max_length=256, strip=False, widget=forms.PasswordInput
    )
    email = forms.EmailField(label=_("邮箱"), required=False, max_length=254)
    phone = forms.CharField(label=_("手机"), max_length=20, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("两次输入的密码不一致"))
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=60, help_text=_("例如：投标客户端"))
    days = forms.IntegerField(
        label=_("有效天数"),
        min_value=1,
        max_value=3650,
        initial=365,
        required=False,
        help_text=_("留空表示长期有效"),
    )


# --- registry ------------------------------------------------------------------------------


class EntityFieldsForm(forms.Form):
    """The registration fields a member may change later (``registry.services.EDITABLE_FIELDS``)."""

    name = forms.CharField(label=_("名称"), max_length=200)
    entity_type = forms.ChoiceField(label=_("主体类型"), choices=EntityType.choices)
    is_bidder = forms.BooleanField(label=_("投标人/供应商"), required=False)
    is_tenderer = forms.BooleanField(label=_("招标人/采购人"), required=False)
    is_agent = forms.BooleanField(label=_("招标代理机构"), required=False)
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=60)
    legal_representative_id = forms.CharField(
        label=_("法定代表人身份证号码"), max_length=24, required=False
    )
    registered_capital = forms.DecimalField(
        label=_("注册资本（元）"), max_digits=18, decimal_places=2, min_value=0, required=False
    )
    address = forms.CharField(label=_("住所"), max_length=300)
    region = forms.ChoiceField(label=_("所在地区"))
    bank_name = forms.CharField(label=_("基本账户开户行"), max_length=120, required=False)
    bank_account = forms.CharField(label=_("基本账户账号"), max_length=40, required=False)
    licence_valid_from = forms.DateField(
        label=_("营业期限自"), required=False, widget=_date_input()
    )
    licence_valid_until = forms.DateField(
        label=_("营业期限至"), required=False, widget=_date_input(), help_text=_("留空表示长期")
    )

    ROLE_FIELDS = ("is_bidder", "is_tenderer", "is_agent")
    SEPARATE_FIELDS = ("uscc", "expected_version")  # rendered on their own by the page

    def __init__(self, *args: Any, regions: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        region_field.choices = [("", "---------"), *regions]

    def clean_legal_representative_id(self) -> str:
        return _identifier(validate_resident_id, self.cleaned_data["legal_representative_id"])

    def role_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ROLE_FIELDS]

    def detail_fields(self) -> list[forms.BoundField]:
        skip = self.ROLE_FIELDS + self.SEPARATE_FIELDS
        return [self[name] for name in self.fields if name not in skip]


class RegisterEntityForm(EntityFieldsForm):
    uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=24, help_text=_("18 位，GB 32100")
    )
    field_order = ["uscc", "name"]

    def clean_uscc(self) -> str:
        return _identifier(validate_uscc, self.cleaned_data["uscc"])


class EntityEditForm(EntityFieldsForm):
    """The editable fields plus the version the editor saw, so a concurrent change is not lost."""

    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "expected_version"}


class ContactForm(forms.Form):
    name = forms.CharField(label=_("联系人姓名"), max_length=60)
    title = forms.CharField(label=_("职务"), max_length=60, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20)
    email = forms.EmailField(label=_("邮箱"), required=False, max_length=254)

    def data_object(self) -> ContactData:
        return ContactData(**self.cleaned_data)


class QualificationForm(forms.Form):
    qualification_type = forms.CharField(label=_("资质类别"), max_length=100)
    grade = forms.CharField(label=_("等级"), max_length=40, required=False)
    issuer = forms.CharField(label=_("发证机关"), max_length=100)
    number = forms.CharField(label=_("证书编号"), max_length=60)
    valid_from = forms.DateField(label=_("有效期自"), required=False, widget=_date_input())
    valid_until = forms.DateField(label=_("有效期至"), required=False, widget=_date_input())

    def data_object(self) -> QualificationData:
        return QualificationData(**self.cleaned_data)


def _identifier(validate: Any, value: str) -> str:
    """Check an identifier at the edge so its exact failing check shows beside the field at once,
    together with any other error on the form (the service checks again)."""
    if not value:
        return value
    try:
        return str(validate(value))
    except IdentifierError as exc:
        raise forms.ValidationError(exc.message, code=exc.check) from exc


def optional_row(form_class: type[forms.Form], data: Any, prefix: str) -> forms.Form:
    """A form row that may be left entirely blank (then it is valid and contributes nothing)."""
    return form_class(data, prefix=prefix, empty_permitted=True, use_required_attribute=False)


def entity_data(
    main: RegisterEntityForm, contact: forms.Form, qualification: forms.Form
) -> EntityData:
    values = {k: v for k, v in main.cleaned_data.items()}
    return EntityData(
        **values,
        contacts=[contact.data_object()] if contact.has_changed() else [],  # type: ignore[attr-defined]
        qualifications=(
            [qualification.data_object()] if qualification.has_changed() else []  # type: ignore[attr-defined]
        ),
    )


class MemberForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    role = forms.ChoiceField(label=_("成员身份"), choices=MemberRole.choices)


# --- directory and ledger ------------------------------------------------------------------

DIRECTORY_ROLE_CHOICES = [
    ("", _("全部角色")),
    ("bidder", _("投标人/供应商")),
    ("tenderer", _("招标人/采购人")),
    ("agent", _("招标代理机构")),
]


class DirectoryForm(forms.Form):
    q = forms.CharField(
        label=_("名称或统一社会信用代码"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("输入名称或代码前几位")}),
    )
    region = forms.ChoiceField(label=_("地区"), required=False)
    role = forms.ChoiceField(label=_("市场角色"), choices=DIRECTORY_ROLE_CHOICES, required=False)

    def __init__(self, *args: Any, regions: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        region_field.choices = [("", _("全部地区")), *regions]


class EventLookupForm(forms.Form):
    seq = forms.IntegerField(label=_("事件序号"), min_value=1)


# --- trust ---------------------------------------------------------------------------------

DIGEST_CHOICES = [("sm3", "SM3"), ("sha256", "SHA-256")]


class SignRequestForm(forms.Form):
    """A document to have signed by QR code: its name and either the file (hashed here, on the
    server) or the hex digest the person computed themselves."""

    FIELD_FOR_CODE = {"bad_digest": "document_digest", "unsupported_digest": "digest_alg"}

    document_name = forms.CharField(label=_("文件名称"), max_length=255)
    digest_alg = forms.ChoiceField(label=_("摘要算法"), choices=DIGEST_CHOICES, initial="sm3")
    document = forms.FileField(
        label=_("文件"), required=False, help_text=_("平台只计算文件摘要，不保存文件。")
    )
    document_digest = forms.CharField(
        label=_("或填写文件摘要（十六进制）"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("document")
        if upload is not None and data.get("digest_alg"):
            from ggzy_client.keys import new_hash

            h = new_hash(data["digest_alg"])
            for chunk in upload.chunks():
                h.update(chunk)
            data["document_digest"] = h.finish().hex()
        elif not data.get("document_digest") and "document_digest" not in self.errors:
            self.add_error("document_digest", _("请上传文件或填写文件摘要。"))
        return data

    def show_refusal(self, exc: DomainError) -> None:
        self.add_error(self.FIELD_FOR_CODE.get(exc.code), exc.message)
