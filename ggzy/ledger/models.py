"""The append-only ledger (交易全过程留痕): events, the chain head, Merkle nodes, signed heads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses bulk updates and deletes: ledger rows are never changed once written."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyViolation(f"{self.model.__name__} rows are append-only")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnlyViolation(f"{self.model.__name__} rows are append-only")


class AppendOnlyViolation(Exception):
    pass


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyViolation(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyViolation(f"{type(self).__name__} rows are append-only")


class Event(AppendOnlyModel):
    """One thing that happened on the platform, chained to the one before it."""

    seq = models.BigIntegerField(_("序号"), primary_key=True)
    entry = models.BigIntegerField(_("登记号"), null=True, blank=True, unique=True)
    time_us = models.BigIntegerField(_("时间（微秒）"))
    actor = models.CharField(_("操作者"), max_length=64)
    client_addr = models.CharField(_("客户端地址"), max_length=64, blank=True)
    event_type = models.CharField(_("事件类型"), max_length=80, db_index=True)
    subject = models.CharField(_("对象"), max_length=200, db_index=True)
    payload = models.TextField(_("内容（规范JSON）"))
    payload_digest = models.CharField(_("内容摘要"), max_length=64)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("事件哈希"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("账本事件")
        verbose_name_plural = _("账本事件")

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.subject}"

    @property
    def recorded_at(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.time_us)


class PendingEvent(models.Model):
    """An event written in its domain transaction and not yet chained (deferred mode).

    It lives here for milliseconds: the chainer turns it into an :class:`Event` right after the
    transaction commits. ``Event.entry`` keeps its id, so the writer can find its event.
    """

    id = models.BigAutoField(primary_key=True)
    time_us = models.BigIntegerField()
    actor = models.CharField(max_length=64)
    client_addr = models.CharField(max_length=64, blank=True)
    event_type = models.CharField(max_length=80)
    subject = models.CharField(max_length=200)
    payload = models.TextField()


class LedgerHead(models.Model):
    """The single row that serialises appends: its lock orders the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    alg = models.CharField(max_length=10, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="ledger_head_singleton")
        ]


class MerkleNode(AppendOnlyModel):
    """A full aligned subtree root at ``level ≥ 1`` (leaves come from events). Derived data:
    ``ggzy ledger verify`` recomputes every node."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="uniq_merkle_node")]


class MerkleState(models.Model):
    """How many leaves have their full nodes materialised."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)


class TreeHead(AppendOnlyModel):
    """A tree head signed with the platform's key (ECDSA P-256 / SHA-256)."""

    size = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    alg = models.CharField(max_length=10)
    time_us = models.BigIntegerField()
    key_id = models.CharField(max_length=64)
    signature = models.TextField()

    class Meta:
        ordering = ["-size"]
        verbose_name = _("签名树头")
        verbose_name_plural = _("签名树头")

    def __str__(self) -> str:
        return f"STH size={self.size} root={self.root[:16]}…"
