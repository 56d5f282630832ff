"""``ggzy opening due | start SECTION | close SECTION | show SECTION [--json]`` — the center's
opening desk from the shell. ``start`` and ``close`` act as ``--as USERNAME`` (a center
operations user: the opening is theirs to run)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError


def _actor(username: str | None) -> Any:
    from ggzy.accounts.models import User

    if not username:
        raise CommandError("请用 --as 指定组织岗用户 (give --as USERNAME)", returncode=2)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户不存在或已停用 (no active user) {username}", returncode=2)
    return user


class Command(BaseCommand):
    help = "Electronic opening (开标): sections due, start, close, show the signed record."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("due", help="sections past their deadline and not yet opened")
        for name, text in (("start", "start the opening (R15: fewer than 3 bids → failed)"),
                           ("close", "close the decryption window and sign the record"),
                           ("show", "the opening and its record")):  # fmt: skip
            p = sub.add_parser(name, help=text)
            p.add_argument("section", help="the section's id (or code)")
            p.add_argument("--as", dest="as_user", metavar="USERNAME", default=None)
            if name == "show":
                p.add_argument("--json", action="store_true")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        as_user = opts.get("as_user")
        from ggzy.bidding import opening
        from ggzy.tendering import selectors

        try:
            if action == "due":
                for s in selectors.openings_due():
                    self.stdout.write(f"{s.public_id}  {s.code}  {s.bid_deadline:%Y-%m-%d %H:%M}  "
                                      f"{s.project.name}")  # fmt: skip
                return
            section = self._section(opts["section"])
            if action == "start":
                session = opening.start_opening(actor=_actor(as_user), section=section)
                self.stdout.write(f"opening {session.status}: {session.bid_count} bids; "
                                  f"window ends {session.window_ends_at}")  # fmt: skip
            elif action == "close":
                session = opening.close_opening(
                    actor=_actor(as_user), opening=opening.get_opening(section)
                )
                self._show(session, as_json=False)
            else:
                self._show(opening.get_opening(section), as_json=opts["json"])
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}", returncode=2) from exc

    def _section(self, ref: str) -> Any:
        from django.db.models import Q

        from ggzy.tendering.models import Section

        section = (
            Section.objects.select_related("project").filter(Q(public_id=ref) | Q(code=ref)).first()
        )
        if section is None:
            raise CommandError(f"标段不存在 (no such section) {ref}", returncode=2)
        return section

    def _show(self, session: Any, *, as_json: bool) -> None:
        from ggzy.bidding import opening

        if as_json:
            self.stdout.write(json.dumps({"status": session.status, "record": session.record,
                                          "signature": session.record_signature,
                                          "verified": opening.verify_record(session)},
                                         ensure_ascii=False, indent=1))  # fmt: skip
            return
        self.stdout.write(f"opening {session.status}, {session.bid_count} bids")
        for row in (session.record or {}).get("bids", []):
            self.stdout.write(f"  {row['bidder']}  {row['price']}  {row['decryption_label']}  "
                              f"{row['deposit']}")  # fmt: skip
        if session.record:
            self.stdout.write(f"record signature verified: {opening.verify_record(session)}")
