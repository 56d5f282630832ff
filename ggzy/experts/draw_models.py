"""The expert draw (专家抽取): a draw for a section, its quotas, the experts drawn, and the
notification outbox. Imported by ``ggzy.experts.models`` (same app, ``experts``).

What is in clear and what is sealed (docs/domains/experts.md, "Draw"): a draw's terms, states,
commitment, tree head and counts are in clear; who was drawn (``DrawnExpert.sealed_identity``),
the draw's inputs (every candidate considered and why it was skipped, ``Draw.sealed_inputs``),
the secret until it is revealed, a decline's reason and every notification's body are sealed
under the draw key (``ggzy.experts.draw_seal``), outside the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.experts.draw_states import DrawnRole, DrawnStatus, DrawStatus

User = settings.AUTH_USER_MODEL


class Draw(models.Model):
    """One draw of experts (and backups) for a section's evaluation session."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="+")
    tops_up = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="top_ups",
        verbose_name=_("补抽自"),
    )
    session_at = models.DateTimeField(_("评标时间"))
    evaluation_date = models.DateField(_("评标日期"))
    include_regions = models.JSONField(_("限定地区"), default=list, blank=True)
    exclude_regions = models.JSONField(_("排除地区"), default=list, blank=True)
    other_regions_only = models.BooleanField(_("仅从外地抽取（远程异地评标）"), default=False)
    home_region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("本地")
    )
    avoid_days = models.PositiveSmallIntegerField(_("同一招标人回避期（日）"))
    status = models.CharField(
        _("状态"), max_length=12, choices=DrawStatus.choices, default=DrawStatus.REQUESTED
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    # commit–reveal: SHA-256 of the secret in the ledger before anything is drawn
    commitment = models.CharField(max_length=64, blank=True)
    sealed_secret = models.TextField(blank=True)
    commit_seq = models.BigIntegerField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    tree_size = models.BigIntegerField(null=True, blank=True)  # the first signed head covering it
    tree_root = models.CharField(max_length=64, blank=True)
    # the inputs (candidates considered, avoidance facts), sealed; their SHA-256 is public
    sealed_inputs = models.TextField(blank=True)
    inputs_sha256 = models.CharField(max_length=64, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    unfillable = models.JSONField(null=True, blank=True)  # {"quotas": [{quota, needed, …}]}
    revealed_at = models.DateTimeField(_("揭示时间"), null=True, blank=True)
    revealed_secret = models.CharField(max_length=64, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("专家抽取")
        verbose_name_plural = _("专家抽取")
        indexes = [models.Index(fields=["section", "requested_at"], name="draw_section")]

    def __str__(self) -> str:
        return f"抽取 {self.public_id[:12]}"


class DrawQuota(models.Model):
    """A quota of a draw: ``count`` experts of a specialty (or any sub-specialty) and
    ``backups`` more, of whom at least ``min_other`` of the mains from outside the home region."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="quotas")
    position = models.PositiveSmallIntegerField()
    specialty = models.ForeignKey("experts.Specialty", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("专业代码"), max_length=16)
    count = models.PositiveSmallIntegerField(_("人数"))
    backups = models.PositiveSmallIntegerField(_("备选人数"), default=0)
    min_other = models.PositiveSmallIntegerField(_("至少外地人数"), default=0)
    exhausted_at = models.DateTimeField(_("备选用尽时间"), null=True, blank=True)

    class Meta:
        ordering = ["draw", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "position"], name="uniq_quota_position"),
            models.UniqueConstraint(fields=["draw", "code"], name="uniq_quota_code"),
        ]


class DrawnExpert(models.Model):
    """One expert drawn for a quota, in the order drawn (``position``); the first ``count`` are
    the mains, the rest backups. Who it is stays sealed until the session starts (``expert`` is
    filled in then)."""

    public_id = models.CharField(max_length=32, unique=True)
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="drawn")
    quota = models.ForeignKey(DrawQuota, on_delete=models.CASCADE, related_name="drawn")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=8, choices=DrawnRole.choices)
    status = models.CharField(max_length=10, choices=DrawnStatus.choices)
    pseudonym = models.CharField(max_length=12)
    invitee_tag = models.CharField(max_length=64)
    sealed_identity = models.TextField()
    other_region = models.BooleanField(default=False)
    seat = models.PositiveSmallIntegerField(null=True, blank=True)  # the main seat held
    notified_at = models.DateTimeField(null=True, blank=True)
    answer_due = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, blank=True)  # declined | no_answer, once replaced
    sealed_reason = models.TextField(blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    expert = models.ForeignKey(
        "experts.Expert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # set at the reveal
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["draw", "quota", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quota", "position"], name="uniq_drawn_position"),
        ]
        indexes = [models.Index(fields=["invitee_tag", "status"], name="drawn_invitee")]


class DrawNotification(models.Model):
    """The outbox of the notification channel: one message per drawn expert called (and per
    later change). The recipient is a keyed tag; the message is sealed. The expert reads their
    own in their workspace; an SMS or e-mail sender would deliver from here."""

    recipient_tag = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)  # invitation | closed
    sealed_body = models.TextField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient_tag", "created_at"], name="draw_notice_to")]
