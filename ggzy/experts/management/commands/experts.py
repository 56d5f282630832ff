"""``ggzy experts list [--status S] [--specialty C] [--region R] | show ID |
import FILE --as U [--report OUT.xlsx] | export FILE --as U [--status S] | approve ID --as U |
reject ID --reason T --as U | suspend ID --reason T [--until DATE] --as U |
reinstate ID --reason T --as U | retire ID --reason T --as U |
rate SESSION EXPERT --kind center|tenderer --score N [--comment T] [--misconduct] --as U |
history EXPERT``;
the draw (专家抽取): ``draw request --section S --session ISO --quota CODE:N[:BACKUPS[:OTHER]]…
[--include R…] [--exclude R…] [--other-only] [--home R] [--avoid-days N] [--tops-up D] --as U |
draw list [--section S] | draw show D | draw reveal D --as U | draw sweep``, and
``verify-draw D [--json] [--identities]`` (exit status 1 when the draw does not verify).

Every write goes through the services as the user named by ``--as``; a refusal is one line,
``[code] message``."""

from __future__ import annotations

import json
from datetime import date
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
        rate = sub.add_parser("rate", help="rate an expert of a signed session (once per side)")
        rate.add_argument("session", help="the evaluation session's public id")
        rate.add_argument("expert", help="the expert's public id")
        rate.add_argument("--kind", required=True, choices=["center", "tenderer"])
        rate.add_argument("--score", required=True, type=int, help="1–5")
        rate.add_argument("--comment", default="")
        rate.add_argument("--misconduct", action="store_true")
        rate.add_argument("--as", dest="username", required=True)
        history = sub.add_parser("history", help="sessions, ratings and suspensions, as JSON")
        history.add_argument("id", help="public id or resident ID number")
        self._draw_arguments(sub)

    def _draw_arguments(self, sub: Any) -> None:
        draw = sub.add_parser("draw", help="the expert draw (专家抽取)")
        steps = draw.add_subparsers(dest="draw_action", required=True)
        req = steps.add_parser("request", help="request, commit and perform a draw")
        req.add_argument("--section", required=True, help="section public id or code")
        req.add_argument("--session", required=True, help="session start, ISO 8601 with offset")
        req.add_argument("--quota", action="append", required=True,
                         help="CODE:COUNT[:BACKUPS[:MIN_OTHER_REGIONS]], repeatable")  # fmt: skip
        req.add_argument("--include", action="append", default=[], help="region, repeatable")
        req.add_argument("--exclude", action="append", default=[], help="region, repeatable")
        req.add_argument("--other-only", action="store_true", help="other regions only")
        req.add_argument("--home", default="", help="home region (default: the project's)")
        req.add_argument("--avoid-days", type=int, default=None)
        req.add_argument("--tops-up", default="", help="the draw this one tops up")
        req.add_argument("--as", dest="username", required=True)
        ls = steps.add_parser("list", help="draws, newest first")
        ls.add_argument("--section", default="")
        show = steps.add_parser("show", help="a draw's status as JSON (counts only while sealed)")
        show.add_argument("id")
        rev = steps.add_parser("reveal", help="at the session start: publish the secret")
        rev.add_argument("id")
        rev.add_argument("--as", dest="username", required=True)
        steps.add_parser("sweep", help="unanswered invitations past their time: replace them")
        verify = sub.add_parser("verify-draw", help="recompute a draw and compare (exit 1: not)")
        verify.add_argument("id")
        verify.add_argument("--json", action="store_true", help="the whole report as JSON")
        verify.add_argument("--identities", action="store_true",
                            help="name the experts examined (only once revealed)")  # fmt: skip

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action.replace('-', '_')}")(opts)
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

    def _rate(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import ratings

        row = ratings.record_rating(
            actor=_user(opts["username"]), session_ref=opts["session"], expert_ref=opts["expert"],
            rater_kind=opts["kind"], score=opts["score"], comment=opts["comment"],
            misconduct=opts["misconduct"],
        )  # fmt: skip
        row.expert.refresh_from_db()
        until = row.expert.suspended_until
        self.stdout.write(f"rating {row.pk}: {row.expert.public_id} {row.rater_kind} {row.score}"
                          f"; expert {row.expert.status}"
                          + (f" until {until.isoformat()}" if until else ""))  # fmt: skip

    def _history(self, opts: dict[str, Any]) -> None:
        import ggzy.api  # noqa: F401 - the API root first: it imports the routers, ours too
        from ggzy.experts.api import history_out

        out = history_out(_expert(opts["id"]))
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))

    # --- the draw ------------------------------------------------------------------------------

    def _draw(self, opts: dict[str, Any]) -> None:
        getattr(self, f"_draw_{opts['draw_action']}")(opts)

    def _draw_request(self, opts: dict[str, Any]) -> None:
        from datetime import datetime

        from ggzy.experts import draw_selectors, draw_services
        from ggzy.experts.draw_models import Draw
        from ggzy.tendering.models import Section

        section = Section.objects.select_related("project").filter(
            Q(public_id=opts["section"]) | Q(code=opts["section"])).first()  # fmt: skip
        if section is None:
            raise CommandError(
                f"[section_not_found] 标段不存在 (no such section): {opts['section']}"
            )
        try:
            session_at = datetime.fromisoformat(opts["session"])
        except ValueError:
            raise CommandError(f"[bad_date] 时间应为 ISO 8601: {opts['session']}") from None
        quotas = [_quota(q) for q in opts["quota"]]
        tops_up = (
            Draw.objects.filter(public_id=opts["tops_up"]).first() if opts["tops_up"] else None
        )
        if opts["tops_up"] and tops_up is None:
            raise CommandError(f"[draw_not_found] 抽取不存在 (no such draw): {opts['tops_up']}")
        try:
            draw = draw_services.request_draw(
                actor=_user(opts["username"]), section=section, session_at=session_at,
                quotas=quotas, include_regions=opts["include"], exclude_regions=opts["exclude"],
                other_regions_only=opts["other_only"], home_region=opts["home"],
                avoid_days=opts["avoid_days"], tops_up=tops_up,
            )  # fmt: skip
        except draw_services.DrawUnfillable as exc:
            for q in exc.detail["quotas"]:
                self.stderr.write(f"{q['quota']} ({q.get('stratum', '')}): needed {q['needed']}, "
                                  f"eligible {q['eligible']}, binding {q['binding']}")  # fmt: skip
            self.stderr.write(f"draw {exc.detail['draw']}: unfillable (recorded)")
            raise
        out = draw_selectors.draw_summary(Draw.objects.get(pk=draw.pk))
        self.stdout.write(f"{draw.public_id}: {draw.status}, " + ", ".join(
            f"{q['quota']} {q['count']}+{q['backups']}" for q in out["quotas"]))  # fmt: skip

    def _draw_list(self, opts: dict[str, Any]) -> None:
        from ggzy.experts.draw_models import Draw

        qs = Draw.objects.select_related("section").order_by("-requested_at", "-pk")
        if opts["section"]:
            qs = qs.filter(Q(section__public_id=opts["section"]) | Q(section__code=opts["section"]))
        for d in qs:
            self.stdout.write(f"{d.public_id}  {d.status:<10} {d.section.code or d.section.label}  "
                              f"{d.session_at.isoformat()}")  # fmt: skip

    def _draw_show(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import draw_selectors

        out = draw_selectors.draw_summary(_draw_row(opts["id"]))
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))

    def _draw_reveal(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import draw_answers

        draw = draw_answers.reveal_draw(actor=_user(opts["username"]), draw=_draw_row(opts["id"]))
        self.stdout.write(f"{draw.public_id}: revealed, secret {draw.revealed_secret}")

    def _draw_sweep(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import draw_answers

        self.stdout.write(f"{draw_answers.expire_overdue()} invitation(s) past their time")

    def _verify_draw(self, opts: dict[str, Any]) -> None:
        from ggzy.experts import draw_verify

        report = draw_verify.verify_draw(_draw_row(opts["id"]), identities=opts["identities"])
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        else:
            for c in report["checks"]:
                self.stdout.write(f"{'ok  ' if c['ok'] else 'FAIL'} {c['check']}: {c['message']}")
            for q in report["quotas"]:
                drawn = " ".join(f"{d['pseudonym'] or '-'}({d['role'][0]})" for d in q["drawn"])
                self.stdout.write(f"quota {q['quota']}: {drawn}")
            self.stdout.write(f"draw {report['draw']}: "
                              + ("verified" if report["ok"] else "DOES NOT VERIFY"))  # fmt: skip
        if not report["ok"]:
            raise CommandError("[draw_not_verified] 抽取复核不一致 (the draw does not verify)")


def _quota(text: str) -> Any:
    from ggzy.experts.draw_services import QuotaTerms

    parts = text.split(":")
    try:
        numbers = [int(x) for x in parts[1:]]
    except ValueError:
        numbers = []
    if len(parts) < 2 or len(numbers) != len(parts) - 1 or len(numbers) > 3:
        raise CommandError(f"[bad_quota] 名额格式 CODE:COUNT[:BACKUPS[:MIN_OTHER]]: {text}")
    return QuotaTerms(parts[0], *numbers)


def _draw_row(ident: str) -> Any:
    from ggzy.experts.draw_models import Draw

    draw = Draw.objects.select_related("section__project").filter(public_id=ident).first()
    if draw is None:
        raise CommandError(f"[draw_not_found] 抽取不存在 (no such draw): {ident}")
    return draw
