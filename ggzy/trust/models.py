"""The trust store (CA 互认): recognized CAs, their certificates and CRLs; certificates bound to
entities and people; signatures recorded by the platform; signing requests; sealed envelopes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.trust.states import CAStatus, Family

User = settings.AUTH_USER_MODEL


class CertificateAuthority(models.Model):
    """A CA the center recognizes (入驻CA). Its certificates work on every system of the platform
    while it is active; suspending or retiring it stops them from that moment on."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    status = models.CharField(
        _("状态"), max_length=12, choices=CAStatus.choices, default=CAStatus.ACTIVE
    )
    subject_id_attribute = models.CharField(
        _("主体标识所在属性"),
        max_length=64,
        blank=True,
        help_text=_(
            "证书主题中携带统一社会信用代码或身份证号的属性（OID 或名称）；留空则依次查找常用属性"
        ),
    )
    crl_url = models.URLField(_("CRL 地址"), max_length=500, blank=True)
    onboarded_at = models.DateTimeField(_("入驻时间"))
    status_changed_at = models.DateTimeField(_("状态变更时间"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("认证机构（CA）")
        verbose_name_plural = _("认证机构（CA）")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class CAStatusChange(models.Model):
    """One change of a CA's status: validation as of a past time reads this history."""

    authority = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="status_changes"
    )
    status = models.CharField(max_length=12, choices=CAStatus.choices)
    at = models.DateTimeField()
    by = models.CharField(max_length=64)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["authority", "at", "pk"]
        verbose_name = _("CA 状态变更")
        verbose_name_plural = _("CA 状态变更")


class CACertificate(models.Model):
    """A root or intermediate certificate of a recognized CA."""

    authority = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="certificates"
    )
    der = models.BinaryField()
    fingerprint = models.CharField(_("SHA-256 指纹"), max_length=64, unique=True)
    subject = models.CharField(_("主题"), max_length=500)
    subject_hash = models.CharField(max_length=64, db_index=True)  # SHA-256 of the Name DER
    issuer = models.CharField(_("颁发者"), max_length=500)
    serial = models.CharField(_("序列号"), max_length=64)
    family = models.CharField(_("算法"), max_length=8, choices=Family.choices)
    is_root = models.BooleanField(_("根证书"))
    not_before = models.DateTimeField(_("生效时间"))
    not_after = models.DateTimeField(_("失效时间"))
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["authority", "-is_root", "pk"]
        verbose_name = _("CA 证书")
        verbose_name_plural = _("CA 证书")

    def __str__(self) -> str:
        return self.subject


class RevocationList(models.Model):
    """A CRL imported for one CA certificate (file upload or the CA's CRL address)."""

    issuer = models.ForeignKey(CACertificate, on_delete=models.PROTECT, related_name="crls")
    number = models.DecimalField(max_digits=40, decimal_places=0, null=True, blank=True)
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(null=True, blank=True)
    entries = models.PositiveIntegerField()
    source = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, unique=True)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["issuer", "-this_update"]
        verbose_name = _("证书吊销列表（CRL）")
        verbose_name_plural = _("证书吊销列表（CRL）")


class RevokedCertificate(models.Model):
    """A serial number a CA revoked, from its CRLs."""

    issuer = models.ForeignKey(CACertificate, on_delete=models.PROTECT, related_name="revoked")
    serial = models.CharField(max_length=64)
    revoked_at = models.DateTimeField()
    reason = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="uniq_revoked_serial")
        ]
        verbose_name = _("已吊销证书")
        verbose_name_plural = _("已吊销证书")


class BindingKind(models.TextChoices):
    ENTITY = "entity", _("单位证书")
    PERSON = "person", _("个人证书")


class CertificateBinding(models.Model):
    """A certificate bound to its holder: a person, and for an entity certificate the entity.

    The holder proved possession of the key when binding. Certificate login signs in as the
    holder; signatures made with the certificate are the holder's (and the entity's)."""

    fingerprint = models.CharField(_("SHA-256 指纹"), max_length=64)
    der = models.BinaryField()
    authority = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="bindings"
    )
    serial = models.CharField(_("序列号"), max_length=64)
    subject = models.CharField(_("主题"), max_length=500)
    subject_identifier = models.CharField(_("主体标识"), max_length=18)
    kind = models.CharField(_("类型"), max_length=8, choices=BindingKind.choices)
    family = models.CharField(_("算法"), max_length=8, choices=Family.choices)
    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="certificates")
    entity = models.ForeignKey(
        "registry.Entity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    not_before = models.DateTimeField(_("生效时间"))
    not_after = models.DateTimeField(_("失效时间"))
    bound_at = models.DateTimeField(_("绑定时间"))
    unbound_at = models.DateTimeField(_("解绑时间"), null=True, blank=True)

    class Meta:
        ordering = ["-bound_at"]
        verbose_name = _("证书绑定")
        verbose_name_plural = _("证书绑定")
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(unbound_at__isnull=True),
                name="uniq_active_binding",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="person") | models.Q(entity__isnull=False),
                name="entity_binding_has_entity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.holder}"


class LoginChallenge(models.Model):
    """A nonce the platform issued for certificate login or binding; usable once, briefly."""

    nonce = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)


class SignatureFormat(models.TextChoices):
    DETACHED = "detached", _("分离式签名")
    CMS = "cms", _("CMS/PKCS#7")
    STATEMENT = "statement", _("扫码签名")


class DocumentSignature(models.Model):
    """A signature the platform verified and recorded over a document's digest."""

    document_name = models.CharField(_("文件名称"), max_length=255)
    digest_alg = models.CharField(_("摘要算法"), max_length=8)
    document_digest = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    format = models.CharField(_("格式"), max_length=10, choices=SignatureFormat.choices)
    signature = models.BinaryField()
    binding = models.ForeignKey(
        CertificateBinding, on_delete=models.PROTECT, related_name="signatures"
    )
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signatures")
    entity = models.ForeignKey(
        "registry.Entity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_signed_at = models.DateTimeField(_("签名者声明的时间"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("平台记录时间"))

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("电子签名")
        verbose_name_plural = _("电子签名")


class SigningRequest(models.Model):
    """A signing request shown as a QR code (扫码签名): the signer's phone signs it."""

    public_id = models.CharField(max_length=32, unique=True)
    document_name = models.CharField(max_length=255)
    digest_alg = models.CharField(max_length=8)
    document_digest = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    signature = models.OneToOneField(
        DocumentSignature, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("扫码签名请求")
        verbose_name_plural = _("扫码签名请求")


class SealedEnvelope(models.Model):
    """A sealed bid envelope (加密投标文件) the platform received: ciphertext only until opened."""

    public_id = models.CharField(max_length=32, unique=True)
    envelope_id = models.CharField(_("信封标识"), max_length=32, unique=True)
    section = models.CharField(_("标段"), max_length=64)
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    binding = models.ForeignKey(CertificateBinding, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    file_sha256 = models.CharField(max_length=64)
    manifest = models.JSONField()
    manifest_digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("接收时间"))
    opened_at = models.DateTimeField(_("解密时间"), null=True, blank=True)
    opened_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("加密投标文件")
        verbose_name_plural = _("加密投标文件")
