"""``ggzy exchange build [DATASET …] | push [--receiver NAME] | status [--json] |
receivers list | receivers add NAME URL [--credential-ref env:NAME] [--dataset N …] |
receivers set NAME [--url URL] [--credential-ref REF] [--dataset N …] [--active/--inactive] |
verify BATCH_ID | systems list | systems accredit CODE --name NAME --operator USCC
[--homepage URL] | systems rotate-key CODE | systems disable|enable CODE --reason TEXT``.

The national data exchange (数据交换): ``build`` makes the next signed batch of each dataset
(every dataset when none is named) from the records changed since its last batch and lists what
was refused and why; ``push`` sends the open deliveries with retries; ``status`` shows each
dataset's cursor and each receiver's deliveries. ``systems`` keeps the accredited external
trading systems (第三方电子交易系统): a new or re-issued API key is printed this once. It acts as
the system (``system:cli``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError

CLI = "system:cli"


class Command(BaseCommand):
    help = "National data exchange (国家数据交换): build, push, status, receivers, verify"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        b = sub.add_parser("build", help="build the next batch of each dataset")
        b.add_argument("datasets", nargs="*", help="dataset numbers (default: all)")
        b.add_argument("--json", action="store_true")
        p = sub.add_parser("push", help="send the open deliveries")
        p.add_argument("--receiver", default=None)
        p.add_argument("--json", action="store_true")
        s = sub.add_parser("status", help="cursors and deliveries")
        s.add_argument("--json", action="store_true")
        v = sub.add_parser("verify", help="check a stored batch's digests and signature")
        v.add_argument("batch_id")
        r = sub.add_parser("receivers", help="list, add or change receivers")
        rsub = r.add_subparsers(dest="receivers_action", required=True)
        rsub.add_parser("list")
        add = rsub.add_parser("add")
        add.add_argument("name")
        add.add_argument("url")
        add.add_argument("--credential-ref", default="")
        add.add_argument("--dataset", action="append", default=[])
        ch = rsub.add_parser("set")
        ch.add_argument("name")
        ch.add_argument("--url", default=None)
        ch.add_argument("--credential-ref", default=None)
        ch.add_argument("--dataset", action="append", default=None)
        group = ch.add_mutually_exclusive_group()
        group.add_argument("--active", dest="active", action="store_true", default=None)
        group.add_argument("--inactive", dest="active", action="store_false")

        sy = sub.add_parser("systems", help="the accredited external trading systems")
        sysub = sy.add_subparsers(dest="systems_action", required=True)
        sysub.add_parser("list")
        acc = sysub.add_parser("accredit", help="connect a system; prints its API key once")
        acc.add_argument("code")
        acc.add_argument("--name", required=True)
        acc.add_argument("--operator", required=True, help="the operating entity's USCC")
        acc.add_argument("--homepage", default="")
        rk = sysub.add_parser("rotate-key", help="issue a new key; the old one stops working")
        rk.add_argument("code")
        for name in ("disable", "enable"):
            onoff = sysub.add_parser(name)
            onoff.add_argument("code")
            onoff.add_argument("--reason", required=True)

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            detail = f" {json.dumps(exc.detail, ensure_ascii=False)}" if exc.detail else ""
            raise CommandError(f"[{exc.code}] {exc.message}{detail}") from exc

    def _out(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, ensure_ascii=False, default=str))

    def _build(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import national

        results = national.build_all(actor=CLI, datasets=opts["datasets"] or None)
        for r in results:
            if opts["json"]:
                self._out(r.as_dict())
                continue
            if not r.sourced:
                self.stdout.write(f"{r.dataset}: 0 records (not traded on this platform)")
                continue
            batch = r.batch.batch_id if r.batch else "no batch"
            self.stdout.write(f"{r.dataset}: {batch}  accepted={r.accepted} "
                              f"unchanged={r.unchanged} refused={len(r.refused)}")  # fmt: skip
            for row in r.refused:
                reasons = "; ".join(f"{x['field']} {x['code']}" for x in row["reasons"])
                self.stdout.write(f"  refused {row['key']}: {reasons}")

    def _push(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import push

        outcomes = push.push(actor=CLI, receiver=opts["receiver"])
        for o in outcomes:
            if opts["json"]:
                self._out(o.as_dict())
            else:
                self.stdout.write(f"{o.receiver:<16} {o.batch}  {o.status:<12} attempts={o.attempts}"
                                  f" {o.receipt_id or o.error}")  # fmt: skip
        if not outcomes and not opts["json"]:
            self.stdout.write("无待推送批次 (nothing to push)")

    def _status(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import push

        data = push.status()
        if opts["json"]:
            self._out(data)
            return
        for name, c in data["datasets"].items():
            self.stdout.write(f"dataset {name}: sequence={c['sequence']} last={c['last_batch']}")
        for name, r in data["receivers"].items():
            state = "active" if r["active"] else "inactive"
            self.stdout.write(f"receiver {name} ({state}) {r['url']} {r['deliveries']}")

    def _verify(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import national
        from ggzy.exchange.models import Batch

        batch = Batch.objects.filter(batch_id=opts["batch_id"][:64]).first()
        if batch is None:
            raise CommandError(f"[batch_not_found] 批次不存在 (no such batch): {opts['batch_id']}")
        if not national.verify_batch(batch):
            raise CommandError(f"[signature_invalid] 批次签名或摘要不符 {batch.batch_id}")
        self.stdout.write(f"{batch.batch_id} verified ({batch.signature_alg}, key {batch.key_id})")

    def _receivers(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import push
        from ggzy.exchange.models import Receiver

        action = opts["receivers_action"]
        if action == "add":
            r = push.add_receiver(actor=CLI, name=opts["name"], url=opts["url"],
                                  credential_ref=opts["credential_ref"], datasets=opts["dataset"])  # fmt: skip
            self.stdout.write(f"added {r.name}")
        elif action == "set":
            r = push.set_receiver(actor=CLI, name=opts["name"], url=opts["url"],
                                  credential_ref=opts["credential_ref"], datasets=opts["dataset"],
                                  active=opts["active"])  # fmt: skip
            self.stdout.write(f"changed {r.name}")
        for r in Receiver.objects.order_by("name"):
            sets = ",".join(r.datasets) or "all"
            self.stdout.write(f"{r.name:<16} {'active' if r.active else 'inactive':<8} {r.url} "
                              f"datasets={sets} credential={r.credential_ref or '-'}")  # fmt: skip

    def _systems(self, opts: dict[str, Any]) -> None:
        from ggzy.exchange import ingest

        action, code = opts["systems_action"], str(opts.get("code") or "")[:64].lower()
        if action == "accredit":
            system, key = ingest.accredit(actor=CLI, code=code, name=opts["name"],
                                          operator=ingest.operator_of(opts["operator"]),
                                          homepage=opts["homepage"])  # fmt: skip
            self._key(system.code, key)
        elif action == "rotate-key":
            self._key(code, ingest.rotate_key(actor=CLI, system=ingest.get_system(code)))
        elif action in ("disable", "enable"):
            ingest.set_active(actor=CLI, system=ingest.get_system(code),
                              active=action == "enable", reason=opts["reason"])  # fmt: skip
            self.stdout.write(f"{code} {action}d")
        for s in ingest.connected_systems():
            last = s.last_received_at.isoformat() if s.last_received_at else "-"
            self.stdout.write(f"{s.code:<20} {'active' if s.active else 'disabled':<8} {s.name} "
                              f"operator={s.operator.uscc} key={s.key_hint}… "
                              f"records={s.records} last={last}")  # fmt: skip

    def _key(self, code: str, key: str) -> None:
        self.stdout.write(f"API key for {code} (shown this once, keep it safe): {key}")
