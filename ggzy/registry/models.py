"""The market-entity registry (市场主体库): an organisation registers once and every procedure
reuses the registration (一地注册、区域通用; 一表申请)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative division (GB/T 2260)."""

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class EntityType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业法人")
    INSTITUTION = "institution", _("事业单位")
    GOVERNMENT = "government", _("机关")
    SOCIAL = "social", _("社会组织")
    INDIVIDUAL_BUSINESS = "individual", _("个体工商户")
    OTHER = "other", _("其他组织")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("暂停")


class Entity(models.Model):
    """A registered market entity (市场主体): bidder, tenderer, agent — or several at once."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    entity_type = models.CharField(_("主体类型"), max_length=20, choices=EntityType.choices)
    is_bidder = models.BooleanField(_("投标人/供应商"), default=False)
    is_tenderer = models.BooleanField(_("招标人/采购人"), default=False)
    is_agent = models.BooleanField(_("招标代理机构"), default=False)
    legal_representative = models.CharField(_("法定代表人"), max_length=60)
    legal_representative_id = models.CharField(_("法定代表人身份证号码"), max_length=18, blank=True)
    registered_capital = models.DecimalField(
        _("注册资本（元）"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    address = models.CharField(_("住所"), max_length=300)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("所在地区"))
    bank_name = models.CharField(_("基本账户开户行"), max_length=120, blank=True)
    bank_account = models.CharField(_("基本账户账号"), max_length=40, blank=True)
    licence_valid_from = models.DateField(_("营业期限自"), null=True, blank=True)
    licence_valid_until = models.DateField(
        _("营业期限至"), null=True, blank=True, help_text=_("留空表示长期")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=EntityStatus.choices, default=EntityStatus.ACTIVE
    )
    version = models.PositiveIntegerField(default=1)
    registered_at = models.DateTimeField(_("注册时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(registered_capital__isnull=True)
                | models.Q(registered_capital__gte=0),
                name="entity_capital_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(is_bidder=True)
                | models.Q(is_tenderer=True)
                | models.Q(is_agent=True),
                name="entity_has_market_role",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def market_roles(self) -> list[str]:
        return [
            r
            for r, on in (
                ("bidder", self.is_bidder),
                ("tenderer", self.is_tenderer),
                ("agent", self.is_agent),
            )
            if on
        ]


class ContactPerson(models.Model):
    """Someone the platform and counterparties may contact about the entity."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=60)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    phone = models.CharField(_("电话"), max_length=20)
    email = models.EmailField(_("邮箱"), blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """A qualification certificate (资质): type, grade, issuer, number, validity."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="qualifications")
    qualification_type = models.CharField(_("资质类别"), max_length=100)
    grade = models.CharField(_("等级"), max_length=40, blank=True)
    issuer = models.CharField(_("发证机关"), max_length=100)
    number = models.CharField(_("证书编号"), max_length=60)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        ordering = ["qualification_type", "pk"]
        verbose_name = _("资质")
        verbose_name_plural = _("资质")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "qualification_type", "number"], name="uniq_qualification"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="qualification_validity_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qualification_type} {self.grade}".strip()


class MemberRole(models.TextChoices):
    ADMIN = "admin", _("管理员")
    OPERATOR = "operator", _("经办人")


class Membership(models.Model):
    """A user acting for an entity. Admins manage the registration; operators run procedures."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("身份"), max_length=12, choices=MemberRole.choices)
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "entity"], name="uniq_membership")]
        verbose_name = _("主体成员")
        verbose_name_plural = _("主体成员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.entity} ({self.role})"


class EntityVersion(models.Model):
    """One change to a registration: who, when, and each field's old and new value."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=64)
    changes = models.JSONField()

    class Meta:
        ordering = ["entity", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "version"], name="uniq_entity_version")
        ]
