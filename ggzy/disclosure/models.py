"""The public projection (信息公开): one row per disclosed record — an announcement, a
clarification, an objection's reply, an opening record, the candidates, the award, the contract,
an entity, a third-party system's project — in the shape the portal, the search, the feeds and the
exports read.

Rows are written by the projector (:mod:`ggzy.disclosure.projector`), which reads the ledger in
sequence order and takes from the domain tables only what the rules let the public see; the
domain apps never import this one (docs/architecture: disclosure reads, nobody imports it).

``seq`` is the change feed's position: the projector gives a record the next number each time the
record changes, so a reader that replays the feed by ``seq`` and keeps the last version of each
``key`` holds every public record exactly once."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    ANNOUNCEMENT = "announcement", _("招标公告")
    CLARIFICATION = "clarification", _("澄清与修改")
    OBJECTION_REPLY = "objection_reply", _("异议答复")
    OPENING = "opening", _("开标记录")
    CANDIDATES = "candidates", _("中标候选人公示")
    AWARD = "award", _("中标结果")
    CONTRACT = "contract", _("合同公开")
    FAILURE = "failure", _("流标公告")
    ENTITY = "entity", _("市场主体")
    EXTERNAL = "external", _("外部交易系统项目")


class PublicRecord(models.Model):
    key = models.CharField(_("记录标识"), max_length=120, unique=True)
    seq = models.BigIntegerField(_("变更序号"), unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=RecordKind.choices)
    # "" for this platform; else the code of the accredited external trading system
    source = models.CharField(_("来源系统"), max_length=64, blank=True, default="")
    project_code = models.CharField(_("项目编号"), max_length=64, blank=True, db_index=True)
    section_code = models.CharField(_("标段编号"), max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("正文"), blank=True)  # the disclosed text, shown on the portal
    search_text = models.TextField(_("检索文本"), blank=True)  # documents' text: searched only
    category = models.CharField(_("交易类别"), max_length=32, blank=True)
    region = models.CharField(_("地区"), max_length=12, blank=True)
    procedure = models.CharField(_("交易方式"), max_length=32, blank=True)
    status = models.CharField(_("状态"), max_length=32, blank=True)
    published_at = models.DateTimeField(_("发布时间"))
    changed_at = models.DateTimeField(_("变更时间"))
    url = models.CharField(_("链接"), max_length=300, blank=True)
    data = models.JSONField(_("公开数据"), default=dict, blank=True)
    ledger_seq = models.BigIntegerField(_("账本序号"), null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-seq"]
        verbose_name = _("公开记录")
        verbose_name_plural = _("公开记录")
        indexes = [
            models.Index(fields=["kind", "published_at"], name="disclosure_kind_pub"),
            models.Index(fields=["category", "published_at"], name="disclosure_cat_pub"),
            models.Index(fields=["region", "published_at"], name="disclosure_region_pub"),
            # the unfiltered portal and API list: newest first, without sorting the table
            models.Index(fields=["-published_at", "-seq"], name="disclosure_pub_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.title}"


class ProjectorState(models.Model):
    """How far the projector has read the ledger (one row, pk=1)."""

    ledger_seq = models.BigIntegerField(default=0)
    record_seq = models.BigIntegerField(default=0)


class PendingRelease(models.Model):
    """A record that becomes public later (a publicity scheduled to start tomorrow): the
    projector builds it again once ``due`` has come, and only then gives it a feed position —
    so a reader of the feed never finds a record whose position it has already passed."""

    key = models.CharField(max_length=120, unique=True)
    due = models.DateTimeField(db_index=True)


class SearchEntry(models.Model):
    """A public record's entry in the full-text index (全文检索): its title, shown text and
    documents' text segmented into words (space-joined), and its filter values as facet tokens.

    The database keeps the searchable form beside it: on SQLite the FTS5 table
    ``disclosure_search_fts`` (external content, kept in step by triggers), on PostgreSQL the
    generated ``search_vector`` tsvector column with a GIN index (migration 0002). Written only
    by :mod:`ggzy.disclosure.search`."""

    record = models.OneToOneField(
        PublicRecord, on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    record_seq = models.BigIntegerField(_("索引时的变更序号"))
    title_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    text_tokens = models.TextField(blank=True)
    facets = models.TextField(blank=True)

    class Meta:
        verbose_name = _("检索索引条目")
        verbose_name_plural = _("检索索引条目")

    def __str__(self) -> str:
        return f"search entry {self.record_id}"
