"""Complaints (投诉) to the regulator against a section's documents, opening or result, with the
statutory timers of R29 (works) and R30 (government procurement), the regulator's handling
(accept or refuse, transfer, pause the clock for expert review or testing, decide), the
evidence both sides file, and the decision record signed by the platform."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.complaints.states import Matter, ObjectionKind, Outcome, Party, PauseKind, Status

User = settings.AUTH_USER_MODEL


class Complaint(models.Model):
    """One complaint (投诉) by a bidder's entity about one section. It is always recorded; a late
    complaint or one without the prior objection the law requires is flagged inadmissible with
    the rule (``flags``), and the regulator decides whether to accept it."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    regime = models.CharField(_("适用制度"), max_length=12)
    matter = models.CharField(_("投诉事项"), max_length=12, choices=Matter.choices)
    text = models.TextField(_("投诉内容"))
    known_on = models.DateField(_("知道或应当知道之日"))
    objection_kind = models.CharField(
        _("先行异议"), max_length=12, choices=ObjectionKind.choices, blank=True
    )
    objection_ref = models.CharField(_("异议编号"), max_length=32, blank=True)
    filed_at = models.DateTimeField(_("投诉时间"))
    filing_last_day = models.DateField(_("投诉期限"), null=True, blank=True)
    admissible = models.BooleanField(_("符合受理条件"), default=True)
    flags = models.JSONField(_("不予受理情形"), default=list)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.FILED)  # fmt: skip
    department = models.CharField(_("承办部门"), max_length=200, blank=True)
    acceptance_due = models.DateField(_("受理审查期限"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    acceptance_late = models.BooleanField(default=False)
    decision_due = models.DateField(_("处理决定期限"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("暂停计时的工作日"), default=0)
    refusal_reason = models.TextField(_("不予受理理由"), blank=True)
    outcome = models.CharField(_("处理结果"), max_length=10, choices=Outcome.choices, blank=True)
    decision_text = models.TextField(_("处理决定"), blank=True)
    decision_late = models.BooleanField(default=False)
    decision_record = models.JSONField(_("处理决定书"), null=True, blank=True)
    decision_sha256 = models.CharField(max_length=64, blank=True)
    decision_signature = models.TextField(blank=True)
    decision_key_id = models.CharField(max_length=128, blank=True)
    handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        indexes = [models.Index(fields=["status", "filed_at"], name="complaints_open")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=Status.DECIDED) | models.Q(outcome=""),
                name="complaint_outcome_only_decided",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=Status.REFUSED) | ~models.Q(refusal_reason=""),
                name="complaint_refusal_has_reason",
            ),
        ]
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")

    def __str__(self) -> str:
        return f"{self.public_id} {self.get_matter_display()}"


class Pause(models.Model):
    """Time the decision period excludes (条例61): the regulator starts it for an expert review,
    a test or an inspection and ends it; the due date moves by its working days."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField(_("事由"), max_length=16, choices=PauseKind.choices)
    reason = models.TextField(_("说明"))
    started_at = models.DateTimeField()
    started_on = models.DateField()
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    working_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_pause_per_complaint",
            )
        ]
        verbose_name = _("暂停计时")
        verbose_name_plural = _("暂停计时")


class Transfer(models.Model):
    """The case moved to another department (移送); its clocks run on unchanged."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="transfers")
    from_department = models.CharField(max_length=200, blank=True)
    to_department = models.CharField(_("移送至"), max_length=200)
    reason = models.TextField(_("移送理由"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("移送")
        verbose_name_plural = _("移送")


class Evidence(models.Model):
    """A file either side adds to the case until the decision, kept like tender documents:
    stored under a random name, with its size and SHA-256."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="evidence")
    public_id = models.CharField(max_length=32, unique=True)
    party = models.CharField(_("提交方"), max_length=12, choices=Party.choices)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=64, unique=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("证据材料")
        verbose_name_plural = _("证据材料")
