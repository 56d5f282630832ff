"""``ggzy project list [--queue] | show ID | accept ID --as U | return ID --reason T --as U |
invite ID USCC… --as U | invitations ID |
publish ID --announcement-file F --deadline ISO --sale-until ISO --as U``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from ggzy.core.errors import DomainError


def _user(username: str) -> Any:
    from ggzy.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"[user_not_found] 用户不存在 (no such active user): {username}")
    return user


def _project(ident: str) -> Any:
    """By public id or trading code. The CLI is the operator's: every state is visible."""
    from ggzy.tendering.models import Project

    project = Project.objects.filter(Q(public_id=ident) | Q(trading_code=ident)).first()
    if project is None:
        raise CommandError(f"[project_not_found] 项目不存在 (no such project): {ident}")
    return project


class Command(BaseCommand):
    help = "Tender projects: list, show, accept (受理), return, invite (邀请招标), publish."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="published projects, or --queue: those awaiting intake")
        ls.add_argument("--queue", action="store_true")
        show = sub.add_parser("show", help="a project with its sections, as JSON")
        show.add_argument("id", help="public id or trading code")
        accept = sub.add_parser("accept", help="accept a submitted project (center intake)")
        accept.add_argument("id")
        accept.add_argument("--as", dest="username", required=True)
        ret = sub.add_parser("return", help="return a submitted project with the reason")
        ret.add_argument("id")
        ret.add_argument("--reason", required=True)
        ret.add_argument("--as", dest="username", required=True)
        inv = sub.add_parser("invite", help="invite bidders (USCCs) to an invited tender")
        inv.add_argument("id")
        inv.add_argument("usccs", nargs="+", metavar="USCC")
        inv.add_argument("--as", dest="username", required=True)
        invs = sub.add_parser("invitations", help="who was invited to an invited tender")
        invs.add_argument("id")
        pub = sub.add_parser("publish", help="publish an accepted project's announcement")
        pub.add_argument("id")
        pub.add_argument("--announcement-file", required=True)
        pub.add_argument("--deadline", required=True, help="bid deadline, ISO 8601")
        pub.add_argument("--sale-until", required=True, help="end of the document sale, ISO 8601")
        pub.add_argument("--as", dest="username", required=True)

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from ggzy.tendering import services

        try:
            if action == "list":
                self._list(queue=opts["queue"])
            elif action == "show":
                self._show(_project(opts["id"]))
            elif action == "accept":
                p = services.accept_project(
                    actor=_user(opts["username"]), project=_project(opts["id"])
                )
                self.stdout.write(f"{p.public_id}: accepted, trading code {p.trading_code}")
            elif action == "return":
                p = services.return_project(
                    actor=_user(opts["username"]),
                    project=_project(opts["id"]),
                    reason=opts["reason"],
                )
                self.stdout.write(f"{p.public_id}: returned")
            elif action == "invite":
                self._invite(opts)
            elif action == "invitations":
                for i in _project(opts["id"]).invitations.select_related("entity"):
                    stamp = i.invited_at.isoformat(timespec="minutes")
                    self.stdout.write(f"{i.entity.uscc}  {stamp}  {i.entity.name}")
            elif action == "publish":
                self._publish(opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _list(self, *, queue: bool) -> None:
        from ggzy.tendering import selectors

        projects = selectors.intake_queue() if queue else selectors.public_projects()
        for p in projects:
            when = p.submitted_at if queue else p.published_at
            stamp = when.isoformat(timespec="minutes") if when else "-"
            self.stdout.write(
                f"{p.public_id}  {p.trading_code or '-':<24} {p.status:<10} {stamp}  {p.name}"
            )

    def _show(self, project: Any) -> None:
        import ggzy.api  # noqa: F401 - the API root first: it imports the routers, ours too
        from ggzy.tendering.api import project_out
        from ggzy.tendering.selectors import _with_sections

        project = _with_sections(type(project).objects.filter(pk=project.pk)).get()
        out = project_out(None, project, private=True)  # the operator sees all
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))

    def _publish(self, opts: dict[str, Any]) -> None:
        from ggzy.tendering import checks, services

        try:
            announcement = Path(opts["announcement_file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"[bad_file] 无法读取公告文件 (cannot read): {exc}") from None
        p = services.publish_project(
            actor=_user(opts["username"]),
            project=_project(opts["id"]),
            announcement=announcement,
            documents_until=checks.moment(opts["sale_until"], "sale_until"),
            bid_deadline=checks.moment(opts["deadline"], "deadline"),
        )
        self.stdout.write(f"{p.public_id}: published at {p.published_at.isoformat()}")

    def _invite(self, opts: dict[str, Any]) -> None:
        from ggzy.tendering import invitations

        made = invitations.invite_bidders(
            actor=_user(opts["username"]), project=_project(opts["id"]), usccs=opts["usccs"]
        )
        for i in made:
            self.stdout.write(f"{i.entity.uscc}: invited ({i.entity.name})")
