"""``ggzy complaints list [--status S] [--json] | show CASE [--json] | accept CASE |
refuse CASE --reason TEXT | transfer CASE --department NAME --reason TEXT |
pause CASE --kind K --reason TEXT | resume CASE | decide CASE --outcome O --text TEXT |
warnings [--json]``, each ``--as USERNAME``.

Complaints (投诉) from the shell, for the regulator: every action acts as ``--as USERNAME`` and
their rights apply. ``warnings`` lists the open cases whose deadline is within one working day
or past (exit status 1 when there are any, for a cron job that mails its output)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError


def _actor(username: str | None) -> Any:
    from ggzy.accounts.models import User

    if not username:
        raise CommandError("请用 --as 指定用户名 (give --as USERNAME)", returncode=2)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户不存在或已停用 (no active user) {username}", returncode=2)
    return user


class Command(BaseCommand):
    help = (
        "Complaints (投诉): list, show, accept, refuse, transfer, pause, resume, decide, warnings"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="the cases (--status open: with clocks, overdue first)")
        ls.add_argument("--status", default="open")
        ls.add_argument("--json", action="store_true")
        sh = sub.add_parser("show", help="one case")
        sh.add_argument("case")
        sh.add_argument("--json", action="store_true")
        ac = sub.add_parser("accept", help="受理")
        ac.add_argument("case")
        rf = sub.add_parser("refuse", help="不予受理")
        rf.add_argument("case")
        rf.add_argument("--reason", required=True)
        tr = sub.add_parser("transfer", help="移送 to another department")
        tr.add_argument("case")
        tr.add_argument("--department", required=True)
        tr.add_argument("--reason", required=True)
        pa = sub.add_parser("pause", help="stop the decision clock")
        pa.add_argument("case")
        pa.add_argument("--kind", required=True, help="expert_review | testing | inspection")
        pa.add_argument("--reason", required=True)
        rs = sub.add_parser("resume", help="restart the decision clock")
        rs.add_argument("case")
        de = sub.add_parser("decide", help="处理决定")
        de.add_argument("case")
        de.add_argument("--outcome", required=True, help="upheld | partly | dismissed")
        de.add_argument("--text", required=True)
        wa = sub.add_parser("warnings", help="deadlines within one working day, or past")
        wa.add_argument("--json", action="store_true")
        for p in (ls, sh, ac, rf, tr, pa, rs, de, wa):
            p.add_argument("--as", dest="as_user", metavar="USERNAME", default=None)

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            detail = f" {json.dumps(exc.detail, ensure_ascii=False)}" if exc.detail else ""
            raise CommandError(f"[{exc.code}] {exc.message}{detail}") from exc

    def _print(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str))

    def _line(self, c: Any, ck: Any) -> str:
        if ck is None:
            clock = "-"
        elif ck.paused:
            clock = "paused"
        else:
            clock = f"{ck.deadline} {ck.due:%Y-%m-%d} ({ck.days_left:+d} WD)"
        flag = "" if c.admissible else " INADMISSIBLE:" + ",".join(f["rule"] for f in c.flags)
        return f"{c.public_id}  {c.status:<8}  {clock:<32}  {c.entity.name}{flag}"

    def _rows(self, rows: list[tuple[Any, Any]], as_json: bool) -> None:
        from ggzy.complaints.api import complaint_out

        if as_json:
            self._print([complaint_out(c, ck) for c, ck in rows])
            return
        for c, ck in rows:
            self.stdout.write(self._line(c, ck))

    def _list(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import selectors

        actor = _actor(opts["as_user"])
        if opts["status"] == "open":
            rows = selectors.open_cases(actor)
        else:
            rows = [(c, selectors.clock_of(c))
                    for c in selectors.all_complaints(actor, status=opts["status"])[:500]]  # fmt: skip
        self._rows(rows, opts["json"])

    def _warnings(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import selectors

        rows = selectors.warnings(_actor(opts["as_user"]))
        self._rows(rows, opts["json"])
        if rows:
            raise CommandError(f"{len(rows)} 件投诉即将或已经逾期 (deadlines near or past)",
                               returncode=1)  # fmt: skip

    def _show(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import selectors
        from ggzy.complaints.api import detail_out

        value = detail_out(selectors.get_complaint(_actor(opts["as_user"]), opts["case"]))
        if opts["json"]:
            self._print(value)
            return
        self.stdout.write(f"{value['public_id']}  {value['status']}  {value['project_name']}  "
                          f"{value['complainant']} ({value['matter']}, {value['regime']})")  # fmt: skip
        for f in value["flags"]:
            self.stdout.write(f"  inadmissible: {f['code']} {f['rule']} {f['source']}")
        if value["clock"]:
            ck = value["clock"]
            self.stdout.write(f"  {ck['deadline']} due {ck['due']}: {ck['days_left']} working "
                              f"day(s) left{' (paused)' if ck['paused'] else ''}")  # fmt: skip
        self.stdout.write(value["text"])

    def _work(self, opts: dict[str, Any]) -> tuple[Any, Any]:
        from ggzy.complaints import selectors

        actor = _actor(opts["as_user"])
        return actor, selectors.get_complaint(actor, opts["case"])

    def _accept(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        c = services.accept(actor=actor, complaint=c)
        self.stdout.write(f"accepted {c.public_id}; decision due {c.decision_due}")

    def _refuse(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        services.refuse(actor=actor, complaint=c, reason=opts["reason"])
        self.stdout.write(f"refused {c.public_id}")

    def _transfer(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        services.transfer(actor=actor, complaint=c, department=opts["department"],
                          reason=opts["reason"])  # fmt: skip
        self.stdout.write(f"transferred {c.public_id} to {opts['department']}")

    def _pause(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        services.pause(actor=actor, complaint=c, kind=opts["kind"], reason=opts["reason"])
        self.stdout.write(f"paused {c.public_id}")

    def _resume(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        c = services.resume(actor=actor, complaint=c)
        self.stdout.write(f"resumed {c.public_id}; decision due {c.decision_due}")

    def _decide(self, opts: dict[str, Any]) -> None:
        from ggzy.complaints import services

        actor, c = self._work(opts)
        c = services.decide(actor=actor, complaint=c, outcome=opts["outcome"], text=opts["text"])
        self.stdout.write(f"decided {c.public_id}: {c.outcome}; record sha256 {c.decision_sha256}")
