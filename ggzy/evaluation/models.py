"""Evaluation sessions (评标): the committee, the qualification review, the experts' scores,
the time each member spends on each bid document, requests for more time, and the signed
report. The scoring itself is the pure engine (``ggzy.evaluation.scoring``); these tables hold
what it is computed from and what it produced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.evaluation.states import CheckKind, LowPriceOutcome, MemberKind, SessionStatus

User = settings.AUTH_USER_MODEL


class EvaluationSession(models.Model):
    """The evaluation of one section after its opening record was signed.

    ``scheme`` is the scoring scheme pinned when the session was created (from the section's
    method and criteria); ``label_seed`` decides the anonymous labels of the bid documents and
    stays sealed (with the mapping) until the report is signed; ``label_commitment`` — the
    SHA-256 of the mapping and the seed — is in the ledger from the start."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.OneToOneField(
        "tendering.Section", on_delete=models.PROTECT, related_name="evaluation"
    )
    opening = models.OneToOneField(
        "bidding.Opening", on_delete=models.PROTECT, related_name="evaluation"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.FORMING
    )
    panel = models.CharField(_("委员会类型"), max_length=20)
    scheme = models.JSONField(_("评分办法"))
    label_seed = models.CharField(max_length=64)
    label_commitment = models.CharField(max_length=64)
    draw_seed = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"))
    committee_formed_at = models.DateTimeField(_("委员会组建时间"), null=True, blank=True)
    scoring_started_at = models.DateTimeField(_("评分开始时间"), null=True, blank=True)
    scoring_deadline = models.DateTimeField(_("评分截止时间"), null=True, blank=True)
    extended_at = models.DateTimeField(_("延长时间"), null=True, blank=True)
    report = models.BinaryField(_("评标报告（签署字节）"), null=True, blank=True)
    report_sha256 = models.CharField(_("报告SHA-256"), max_length=64, blank=True)
    report_built_at = models.DateTimeField(_("报告生成时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("全部签署时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("评标会")
        verbose_name_plural = _("评标会")

    def __str__(self) -> str:
        return f"评标 {self.public_id}"


class CommitteeMember(models.Model):
    """A seat on the committee (评标委员会成员): a drawn expert, or a tenderer's representative
    (works only; counts toward the size, not toward the two thirds of experts)."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(max_length=16, choices=MemberKind.choices)
    expert = models.ForeignKey(
        "experts.Expert", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ref = models.CharField(max_length=32)  # the member's id in the report (no name)
    name = models.CharField(_("姓名"), max_length=60)
    is_chair = models.BooleanField(_("主任委员"), default=False)
    joined_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("评标委员会成员")
        verbose_name_plural = _("评标委员会成员")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="uniq_member_user"),
            models.UniqueConstraint(fields=["session", "ref"], name="uniq_member_ref"),
            models.UniqueConstraint(
                fields=["session"], condition=models.Q(is_chair=True), name="one_chair"
            ),
        ]


class SessionBid(models.Model):
    """A bid as the session sees it: from the signed opening record, with its anonymous label
    (暗标), the review's outcome and the abnormally-low-price explanation."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="bids")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("暗标编号"), max_length=8)
    price = models.DecimalField(null=True, blank=True, max_digits=16, decimal_places=2)
    duration_days = models.PositiveIntegerField(null=True, blank=True)
    decryption = models.CharField(max_length=16)
    invalid_reason = models.CharField(_("无效理由"), max_length=500, blank=True)
    low_price = models.CharField(
        _("异常低价"), max_length=10, choices=LowPriceOutcome.choices, blank=True, default=""
    )
    low_price_note = models.CharField(_("说明审查意见"), max_length=500, blank=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("评审投标")
        verbose_name_plural = _("评审投标")
        constraints = [
            models.UniqueConstraint(fields=["session", "label"], name="uniq_bid_label"),
            models.UniqueConstraint(fields=["session", "bid"], name="uniq_session_bid"),
        ]

    @property
    def valid(self) -> bool:
        return not self.invalid_reason


class Finding(models.Model):
    """One automated check of one bid against the registry and the opening record; the members
    confirm or overrule it, and the majority decides (``outcome``)."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.CASCADE, related_name="findings"
    )
    bid = models.ForeignKey(SessionBid, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    passed = models.BooleanField(_("自动检查通过"))
    message = models.CharField(max_length=300)
    detail = models.JSONField(default=dict)
    outcome = models.BooleanField(_("委员会认定通过"), null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bid__label", "kind"]
        verbose_name = _("审查发现")
        verbose_name_plural = _("审查发现")
        constraints = [
            models.UniqueConstraint(fields=["bid", "kind"], name="uniq_finding"),
        ]


class FindingVote(models.Model):
    """A member confirms (``agrees``) or overrules an automated finding, with a reason."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    agrees = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    voted_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "member"], name="uniq_finding_vote"),
        ]


class Score(models.Model):
    """One member's points for one bid on one technical or commercial criterion, with the
    justification (评分理由)."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="scores")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    bid = models.ForeignKey(SessionBid, on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(max_length=16)
    points = models.DecimalField(max_digits=8, decimal_places=2)
    justification = models.CharField(max_length=1000, blank=True)
    scored_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="uniq_score"),
        ]


class ViewingSpan(models.Model):
    """A stretch of time a member had a bid document open (supervision reads it later)."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="spans")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    bid = models.ForeignKey(SessionBid, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(ended_at__isnull=True), name="one_open_span"
            ),
        ]

    @property
    def seconds(self) -> int:
        end = self.ended_at or self.last_seen_at
        return max(0, int((end - self.started_at).total_seconds()))


class ExtensionRequest(models.Model):
    """A member says the time is not enough (R23)."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.CASCADE, related_name="extension_requests"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="uniq_extension_request"),
        ]


class ReportSignature(models.Model):
    """A member's signature over the report bytes, recorded by the trust service."""

    session = models.ForeignKey(
        EvaluationSession, on_delete=models.CASCADE, related_name="signatures"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")
    signature = models.ForeignKey(
        "trust.DocumentSignature", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="uniq_report_signature"),
        ]


__all__ = [
    "CheckKind",
    "CommitteeMember",
    "EvaluationSession",
    "ExtensionRequest",
    "Finding",
    "FindingVote",
    "LowPriceOutcome",
    "MemberKind",
    "ReportSignature",
    "Score",
    "SessionBid",
    "SessionStatus",
    "ViewingSpan",
]
