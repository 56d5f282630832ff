"""``ggzy experts list [--status S] [--specialty C] [--region R] | show ID |
import FILE --as U [--report OUT.xlsx] | export FILE --as U [--status S] | approve ID --as U |
reject ID --reason T --as U | suspend ID --reason T [--until DATE] --as U |
reinstate ID --reason T --as U | retire ID --reason T --as U``.

Every write goes through the services as the user named by ``--as``; a refusal is one line,
``[code] message``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError


def _user(username: str) -> Any:
    from ggzy.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"[user_not_found] 用户不存在 (no such active user): {username}")
    return user


def _expert(ident: str) -> Any:
    """By public id or resident ID number. The CLI is the operator's: every record is visible."""
    from django.db.models import Q

    from ggzy.experts.models import Expert

    expert = Expert.objects.filter(Q(public_id=ident) | Q(resident_id=ident.upper())).first()
    if expert is None:
        raise CommandError(f"[expert_not_found] 专家不存在 (no such expert): {ident}")
    return expert


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"[bad_date] 日期应为 YYYY-MM-DD: {value}") from None


class Command(BaseCommand):
    help = "The expert pool (专家库): list, show, import, export, approve, reject, suspend…"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="experts, newest first (--status pending: the queue)")
        ls.add_argument("--status", default="")
        ls.add_argument("--specialty", default="")
        ls.add_argument("--region", default="")
        show = sub.add_parser("show", help="one expert with the history, as JSON")
        show.add_argument("id", help="public id or resident ID number")
        imp = sub.add_parser("import", help="import an .xlsx (all rows or none)")
        imp.add_argument("file")
        imp.add_argument("--as", dest="username", required=True)
        imp.add_argument("--report", help="write the row-level error report here (.xlsx)")
        exp = sub.add_parser("export", help="export the pool to an .xlsx (the import format)")
        exp.add_argument("file")
        exp.add_argument("--status", default="active")
        exp.add_argument("--as", dest="username", required=True)
        approve = sub.add_parser("approve", help="approve an application (R20 checked)")
        approve.add_argument("id")
        approve.add_argument("--as", dest="username", required=True)
        for name in ("reject", "suspend", "reinstate", "retire"):
            p = sub.add_parser(name)
            p.add_argument("id")
            p.add_argument("--reason", required=True)
            p.add_argument("--as", dest="username", required=True)
            if name == "suspend":
                p.add_argument("--until", help="YYYY-MM-DD (inclusive); none: indefinitely")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _list(self, opts: dict[str, Any]) -> None:
        from ggzy.experts.models import Expert
        from ggzy.experts.selectors import region_codes, subtree_ids

        qs = Expert.objects.select_related("primary_specialty", "region").order_by("-pk")
        if opts["status"]:
            qs = qs.filter(status=opts["status"])
        if opts["specialty"]:
            qs = qs.filter(
                specialty_rows__specialty_id__in=subtree_ids([opts["specialty"]])
            ).distinct()
        if opts["region"]:
            qs = qs.filter(region_id__in=region_codes([opts["region"]]))
        for e in qs:
            self.stdout.write(f"{e.public_id}  {e.status:<10} {e.primary_specialty.code:<8} "
                              f"{e.region_id}  {e.name}")  # fmt: skip

    def _show(self, opts: dict[str, Any]) -> None:
        import ggzy.api  # noqa: F401 - the API root first: it imports the routers, ours too
        from ggzy.experts.api import expert_out

        out = expert_out(_expert(opts["id"]))
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))

    def _import(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import excel

        try:
            data = Path(opts["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"[bad_file] 无法读取文件 (cannot read): {exc}") from None
        try:
            result = excel.import_experts(actor=_user(opts["username"]), data=data)
        except excel.ImportRowsInvalid as exc:
            for e in exc.detail["errors"]:
                self.stderr.write(f"row {e['row']} {e['column']}: [{e['code']}] {e['message']}")
            if opts.get("report"):
                Path(opts["report"]).write_bytes(excel.error_report(exc.detail["errors"]))
            raise
        self.stdout.write(f"imported {len(result.experts)} experts (batch {result.batch})")

    def _export(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import excel

        data = excel.export_pool(actor=_user(opts["username"]), status=opts["status"])
        Path(opts["file"]).write_bytes(data)
        self.stdout.write(f"exported to {opts['file']}")

    def _approve(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import services

        e = services.approve_application(actor=_user(opts["username"]), expert=_expert(opts["id"]))
        self.stdout.write(f"{e.public_id}: {e.status}")

    def _status(self, opts: dict[str, Any], fn: Any, **extra: Any) -> None:
        e = fn(actor=_user(opts["username"]), expert=_expert(opts["id"]), reason=opts["reason"],
               **extra)  # fmt: skip
        self.stdout.write(f"{e.public_id}: {e.status}")

    def _reject(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import services

        self._status(opts, services.reject_application)

    def _suspend(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import services

        self._status(opts, services.suspend_expert, until=_day(opts.get("until")))

    def _reinstate(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import services

        self._status(opts, services.reinstate_expert)

    def _retire(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import services

        self._status(opts, services.retire_expert)
