"""``ggzy award warnings [--before N] [--after N] [--today DATE] [--json] | list | show SECTION``.

``warnings`` lists every due date of the result stage that is coming (within ``--before``
days) or passed (escalated ``--after`` days later): publicity start (R25/R31), objection
answers (R9/R30), the award before the bids' validity ends (R37), the contract (R26/R27), its
publication and filing (R27), deposit refunds (R12/R13) and the contract's obligations
(三金一款). It reads as the center does (everything); nothing is written."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError

CLI = "system:cli"


class Command(BaseCommand):
    help = "Results and contracts (中标结果与合同): warnings, list, show"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        wr = sub.add_parser("warnings", help="due dates coming or passed")
        wr.add_argument("--before", type=int, default=None, help="days ahead to warn")
        wr.add_argument("--after", type=int, default=None, help="days overdue to escalate")
        wr.add_argument("--today", default="", help="YYYY-MM-DD (default: today)")
        wr.add_argument("--json", action="store_true", help="one warning per line")
        sub.add_parser("list", help="results by section, newest first, with their stage")
        sh = sub.add_parser("show", help="one section's result")
        sh.add_argument("section", help="the section's public id")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _warnings(self, opts: dict[str, Any]) -> None:
        from ggzy.award import selectors

        for name in ("before", "after"):
            if opts[name] is not None and not 0 <= opts[name] <= 365:
                raise CommandError(f"[bad_days] --{name} 应为 0–365")
        try:
            today = date.fromisoformat(opts["today"]) if opts["today"] else None
        except ValueError:
            raise CommandError(f"[bad_date] 日期应为 YYYY-MM-DD: {opts['today']}") from None
        rows = selectors.warnings(CLI, today=today, before=opts["before"], after=opts["after"])
        for w in rows:
            if opts["json"]:
                self.stdout.write(json.dumps(w.as_dict() | {"due": w.due.isoformat()},
                                             ensure_ascii=False))  # fmt: skip
            else:
                self.stdout.write(f"{w.level:<9} {w.due.isoformat()} {w.days_overdue:>+4}d "
                                  f"{w.rule or '-':<4} {w.kind:<22} {w.section_label}  "
                                  f"{w.message}")  # fmt: skip
        if not rows and not opts["json"]:
            self.stdout.write("无预警 (no warnings)")

    def _list(self, opts: dict[str, Any]) -> None:
        from ggzy.award import selectors

        for row in selectors.overview(CLI):
            award = row["award"]
            winner = award.entity.name if award else "-"
            self.stdout.write(f"{row['section'].public_id}  {row['stage']:<10} "
                              f"{row['section'].label}  {winner}")  # fmt: skip

    def _show(self, opts: dict[str, Any]) -> None:
        from ggzy.award import selectors
        from ggzy.tendering.models import Section

        section = Section.objects.select_related("project").filter(
            public_id=opts["section"][:32]).first()  # fmt: skip
        if section is None:
            raise CommandError(
                f"[section_not_found] 标段不存在 (no such section): {opts['section']}"
            )
        self.stdout.write(f"{section.label} {section.name}  stage={selectors.stage_of(section)}")
        publicity = selectors.publicity_of(section)
        if publicity is not None:
            self.stdout.write(f"publicity {publicity.starts_at.isoformat()} – "
                              f"{publicity.ends_at.isoformat()}")  # fmt: skip
            for c in selectors.candidates(publicity):
                self.stdout.write(f"  {c.rank}. {c.entity.name} {c.entity.uscc} {c.price} "
                                  f"{c.total if c.total is not None else '-'}")  # fmt: skip
        award = selectors.award_of(section)
        if award is not None:
            ok = "verified" if selectors.award_verified(award) else "SIGNATURE INVALID"
            self.stdout.write(f"award {award.public_id} {award.entity.name} {award.amount} "
                              f"{award.issued_at.isoformat()} {ok}")  # fmt: skip
        contract = selectors.contract_of(section)
        if contract is not None:
            self.stdout.write(f"contract {contract.public_id} {contract.amount} signed "
                              f"{contract.signed_on.isoformat()}"
                              f"{' LATE' if contract.late else ''}")  # fmt: skip
