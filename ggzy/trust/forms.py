"""Back-office forms for the trust store. They only collect input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the CRL fetch limit; CA certificates are far smaller


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or more uploaded files (Django's documented pattern for ``multiple``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(d, initial) for d in data]
        return [single(data, initial)]


def _read(upload: UploadedFile) -> bytes:
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(f"文件过大 (file too large): {upload.name}")
    return b"".join(upload.chunks())


class OnboardCAForm(forms.Form):
    code = forms.SlugField(label="代码 (code)", max_length=40)
    name = forms.CharField(label="名称 (name)", max_length=120)
    certificates = MultipleFileField(
        label="CA 证书 (CA certificates)",
        help_text="根证书及中间证书，PEM 或 DER，可多选 (root and intermediates, PEM or DER)",
    )
    subject_id_attribute = forms.CharField(
        label="主体标识所在属性 (subject attribute)",
        max_length=64,
        required=False,
        help_text="如 serialNumber 或 OID；留空则依次查找常用属性",
    )
    crl_url = forms.URLField(
        label="CRL 地址 (CRL URL)", max_length=500, required=False, assume_scheme="https"
    )

    def clean_certificates(self) -> list[bytes]:
        return [_read(f) for f in self.cleaned_data["certificates"]]


class CRLUploadForm(forms.Form):
    crl = forms.FileField(label="CRL 文件 (CRL file, PEM or DER)")

    def clean_crl(self) -> bytes:
        return _read(self.cleaned_data["crl"])
