"""``ggzy deposits import FILE.csv | refunds [--overdue] | refunded DEPOSIT_ID REFERENCE`` — the
deposit bank's notices and the center's refunds (投标保证金)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core import clock
from ggzy.core.errors import DomainError

ACTOR = "system:cli"


def _actor(username: str | None) -> Any:
    """``--as USERNAME`` acts as that user (with their rights); otherwise the operator's shell."""
    if not username:
        return ACTOR
    from ggzy.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户不存在或已停用 (no active user) {username}", returncode=2)
    return user


class Command(BaseCommand):
    help = "Deposits: import bank notices, list refunds due (and overdue), record a refund."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", default=None)
        sub = parser.add_subparsers(dest="action", required=True)
        i = sub.add_parser("import", help="apply a bank's CSV file of credit notices")
        i.add_argument("file", metavar="FILE.csv")
        i.add_argument("--json", action="store_true")
        r = sub.add_parser("refunds", help="deposits due for refund (exit 1 if any is overdue)")
        r.add_argument("--overdue", action="store_true", help="only those past their due date")
        r.add_argument("--json", action="store_true")
        d = sub.add_parser("refunded", help="record the refund of a deposit")
        d.add_argument("deposit_id", type=int)
        d.add_argument("reference")

    def handle(self, *args: Any, action: str, as_user: str | None, **opts: Any) -> None:
        actor = _actor(as_user)
        try:
            if action == "import":
                self._import(actor, opts["file"], opts["json"])
            elif action == "refunds":
                self._refunds(actor, opts["overdue"], opts["json"])
            elif action == "refunded":
                self._refunded(actor, opts["deposit_id"], opts["reference"])
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _import(self, actor: Any, path: str, as_json: bool) -> None:
        from ggzy.bidding.deposits import import_bank_notices
        from ggzy.trust.management.commands.ca import read_file

        try:
            text = read_file(path).decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError("CSV 须为 UTF-8 编码 (not UTF-8)", returncode=2) from None
        report = import_bank_notices(actor=actor, csv_text=text)
        if as_json:
            self.stdout.write(json.dumps(report.__dict__, ensure_ascii=False, indent=2))
        else:
            for r in report.results:
                code = f" [{r['code']}]" if r["code"] else ""
                self.stdout.write(f"line {r['line']}\t{r['bank_reference']}\t{r['outcome']}{code}")
            self.stdout.write(
                f"{report.rows} rows: {report.paid} applied, {report.refused} refused"
            )
        if report.refused:
            raise CommandError(f"{report.refused} row(s) refused", returncode=1)

    def _refunds(self, actor: Any, overdue: bool, as_json: bool) -> None:
        from ggzy.bidding.deposits import refunds

        today = clock.today()
        rows = []
        for d in refunds(actor, overdue_only=overdue):
            late = max((today - d.refund_due).days, 0) if d.refund_due else 0
            rows.append({
                "deposit": d.pk, "section": d.section.label, "entity": d.entity.uscc,
                "amount": str(d.paid_amount or d.amount), "method": d.method,
                "trigger": d.refund_trigger,
                "due": d.refund_due.isoformat() if d.refund_due else None, "days_overdue": late,
            })  # fmt: skip
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in rows:
                flag = f"\tOVERDUE {r['days_overdue']}d" if r["days_overdue"] else ""
                self.stdout.write(
                    f"{r['deposit']}\t{r['section']}\t{r['entity']}\t{r['amount']}\t"
                    f"{r['trigger']}\tdue {r['due']}{flag}"
                )
            if not rows:
                self.stdout.write("no refunds due")
        if any(r["days_overdue"] for r in rows):
            self.stderr.write("warning: overdue deposit refunds (R12/R13)")
            raise CommandError("overdue refunds", returncode=1)

    def _refunded(self, actor: Any, deposit_id: int, reference: str) -> None:
        from ggzy.bidding.deposits import get_deposit_for, mark_refunded

        deposit = get_deposit_for(actor, deposit_id, action="refund")
        deposit = mark_refunded(actor=actor, deposit=deposit, reference=reference)
        self.stdout.write(f"deposit {deposit.pk} refunded ({deposit.refund_reference})")
