"""Forms for the deposit pages: the finance desk (a bank's CSV file, one credit notice, a refund
reference) and the bidder's electronic guarantee. As elsewhere in the portal they check only the
shape of what was sent; every rule is :mod:`ggzy.bidding.deposits`'."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ggzy.bidding.deposits import CSV_COLUMNS
from ggzy.web.forms_tendering import DATETIME_LOCAL

GUARANTEE_MAX_BYTES = 1 << 20  # a guarantee and its sigfile are a few kilobytes


def _read_capped(upload: UploadedFile, limit: int) -> bytes:
    if upload.size is not None and upload.size > limit:
        raise forms.ValidationError(
            _("文件过大（不超过 %(kb)s KB）。"), params={"kb": limit // 1024}, code="too_large"
        )
    data = b"".join(upload.chunks())
    if not data:
        raise forms.ValidationError(_("文件为空。"), code="empty_file")
    return data


class BankFileForm(forms.Form):
    """The deposit bank's CSV file of credit notices (UTF-8, header :data:`CSV_COLUMNS`)."""

    file = forms.FileField(
        label=_("银行到账通知文件（CSV）"),
        help_text=format_lazy("{}{}", _("UTF-8 编码，首行列名："), ",".join(CSV_COLUMNS)),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        limit = int(getattr(settings, "GGZY_BANK_CSV_MAX_BYTES", 5 << 20))
        data = _read_capped(self.cleaned_data["file"], limit)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("CSV 须为 UTF-8 编码。"), code="bad_csv") from None
        if "\x00" in text:
            raise forms.ValidationError(_("CSV 含空字符。"), code="nul_character")
        return text


class BankNoticeForm(forms.Form):
    """One credit notice typed in from the bank's advice (到账通知)."""

    bank_reference = forms.CharField(label=_("银行流水号"), max_length=64)
    virtual_account = forms.CharField(label=_("虚拟子账号"), max_length=32)
    amount = forms.DecimalField(label=_("到账金额（元）"), max_digits=16, decimal_places=2)
    payer_account = forms.CharField(label=_("付款账号"), max_length=40)
    payer_name = forms.CharField(label=_("付款户名"), max_length=200)
    payer_bank = forms.CharField(label=_("付款行"), max_length=120, required=False)
    credited_at = forms.DateTimeField(
        label=_("到账时间（北京时间）"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    def notice(self) -> dict[str, Any]:
        """The keyword arguments of ``record_bank_notice`` (the amount as the string typed)."""
        data = dict(self.cleaned_data)
        data["amount"] = str(data["amount"])
        return data


class RefundForm(forms.Form):
    reference = forms.CharField(label=_("退款流水号"), max_length=64)


class GuaranteeForm(forms.Form):
    """The issuer's electronic guarantee (the JSON document) and its detached signature: a
    ``ggzy-sig/1`` sigfile (JSON, from ``ggzy-client sign``) or a DER CMS signature."""

    document = forms.FileField(
        label=_("电子保函文件（JSON）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    signature = forms.FileField(
        label=_("出函机构的签名文件"),
        help_text=_("ggzy-client sign 生成的 .sig.json，或 CMS 签名（.p7s）"),
    )

    def clean_document(self) -> bytes:
        return _read_capped(self.cleaned_data["document"], GUARANTEE_MAX_BYTES)

    def clean_signature(self) -> bytes:
        return _read_capped(self.cleaned_data["signature"], GUARANTEE_MAX_BYTES)

    def signature_kwargs(self) -> dict[str, Any]:
        """``sigfile=`` for a JSON sigfile, else ``cms=`` (the trust service judges either)."""
        raw: bytes = self.cleaned_data["signature"]
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if isinstance(parsed, dict):
            return {"sigfile": parsed}
        return {"cms": raw}
