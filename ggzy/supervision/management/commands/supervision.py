"""``ggzy supervision scan [--all] | alerts [--status S] [--kind K] [--json] | show ALERT [--json]
| assign ALERT USER | note ALERT TEXT | dismiss ALERT --reason TEXT | escalate ALERT --target T
--text TEXT | reopen ALERT --reason TEXT | settings [--json] | set GROUP KEY=VALUE … |
import FILE --name NAME [--format csv|ocds] [--skip-bad-rows] | datasets | report DATASET
[--part P] [--out FILE]``.

Smart supervision (智慧监管) from the shell. ``scan`` runs the detectors over what is new in the
ledger; ``scan --all`` is the nightly pass (every opened section again, then the market-wide
detectors) — schedule it (cron, a systemd timer) once a night. The scan acts as the system; every
other action acts as ``--as USERNAME`` (a regulator or inspector: their rights apply)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError


def _actor(username: str | None) -> Any:
    from ggzy.accounts.models import User

    if not username:
        raise CommandError("请用 --as 指定监管人员用户名 (give --as USERNAME)", returncode=2)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户不存在或已停用 (no active user) {username}", returncode=2)
    return user


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class Command(BaseCommand):
    help = "Smart supervision (智慧监管): scan, alerts, thresholds, historical data"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("scan", help="run the detectors over what is new (--all: nightly)")
        s.add_argument("--all", action="store_true", help="the nightly pass over everything")
        s.add_argument("--json", action="store_true")
        a = sub.add_parser("alerts", help="the inbox")
        a.add_argument("--status", default="active")
        a.add_argument("--kind", default="")
        a.add_argument("--json", action="store_true")
        sh = sub.add_parser("show", help="one alert with its evidence and history")
        sh.add_argument("alert")
        sh.add_argument("--json", action="store_true")
        asg = sub.add_parser("assign")
        asg.add_argument("alert")
        asg.add_argument("assignee")
        n = sub.add_parser("note")
        n.add_argument("alert")
        n.add_argument("text")
        d = sub.add_parser("dismiss")
        d.add_argument("alert")
        d.add_argument("--reason", required=True)
        e = sub.add_parser("escalate")
        e.add_argument("alert")
        e.add_argument("--target", required=True,
                       help="complaint | credit | inspection | police")  # fmt: skip
        e.add_argument("--text", required=True)
        r = sub.add_parser("reopen")
        r.add_argument("alert")
        r.add_argument("--reason", required=True)
        st = sub.add_parser("settings", help="the thresholds in force")
        st.add_argument("--json", action="store_true")
        se = sub.add_parser("set", help="set a group's thresholds (KEY=VALUE, JSON values)")
        se.add_argument("group")
        se.add_argument("values", nargs="+", metavar="KEY=VALUE")
        im = sub.add_parser("import", help="import a historical data file and build its report")
        im.add_argument("file")
        im.add_argument("--name", required=True)
        im.add_argument("--format", default="csv", choices=["csv", "ocds"])
        im.add_argument("--skip-bad-rows", action="store_true")
        sub.add_parser("datasets", help="the imported data sets")
        rp = sub.add_parser("report", help="a data set's report as CSV")
        rp.add_argument("dataset")
        rp.add_argument("--part", default="tenders")
        rp.add_argument("--out", default="-", help="file to write (default: standard output)")
        w = sub.add_parser("watch", help="the watchlist (重点关注名单): list | add | remove")
        wsub = w.add_subparsers(dest="watch_action", required=True)
        wl = wsub.add_parser("list")
        wa = wsub.add_parser("add")
        wa.add_argument("kind", help="entity | person | phone | email | account | ip | "
                                     "entity_name | person_name")  # fmt: skip
        wa.add_argument("value")
        wa.add_argument("--reason", required=True)
        wr = wsub.add_parser("remove")
        wr.add_argument("entry")
        for p in (wl, wa, wr):
            p.add_argument("--as", dest="as_user", metavar="USERNAME", default=None)
        for p in (a, sh, asg, n, d, e, r, st, se, im, rp):
            p.add_argument("--as", dest="as_user", metavar="USERNAME", default=None)
        sub.choices["datasets"].add_argument("--as", dest="as_user", metavar="USERNAME",
                                             default=None)  # fmt: skip

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            getattr(self, f"_{action}")(opts)
        except DomainError as exc:
            detail = f" {json.dumps(exc.detail, ensure_ascii=False)}" if exc.detail else ""
            raise CommandError(f"[{exc.code}] {exc.message}{detail}") from exc

    def _print(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str))

    # --- scan and alerts ------------------------------------------------------------------------

    def _scan(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import scan

        out = scan.scan_all() if opts["all"] else scan.catch_up()
        result = {"events": out.events, "sections": out.sections, "raised": out.raised,
                  "refreshed": out.refreshed, "failed": out.failed}  # fmt: skip
        if opts["json"]:
            self._print(result)
        else:
            self.stdout.write(f"events {out.events}, sections {out.sections}, raised {out.raised}, "
                              f"refreshed {out.refreshed}, failed {len(out.failed)}")  # fmt: skip
        if out.failed:
            raise CommandError(f"detectors failed on: {', '.join(out.failed)}", returncode=3)

    def _alerts(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import selectors
        from ggzy.supervision.api import alert_out

        actor = _actor(opts["as_user"])
        rows = list(selectors.alerts(actor, status=opts["status"], kind=opts["kind"])[:500])
        if opts["json"]:
            self._print([alert_out(a) for a in rows])
            return
        for a in rows:
            score = "" if a.score is None else f"{a.score:5.1f}"
            self.stdout.write(f"{a.public_id}  {a.raised_at:%Y-%m-%d %H:%M}  {a.status:<9} "
                              f"{a.code:<8} {score:>5}  {a.title}")  # fmt: skip

    def _show(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import selectors
        from ggzy.supervision.api import detail_out

        value = detail_out(selectors.get_alert(_actor(opts["as_user"]), opts["alert"]))
        if opts["json"]:
            self._print(value)
            return
        self.stdout.write(f"{value['code']}  {value['status']}  {value['title']}")
        self.stdout.write(json.dumps(value["evidence"], ensure_ascii=False, indent=1))
        for note in value["notes"]:
            self.stdout.write(f"  {note['at']:%Y-%m-%d %H:%M} {note['kind']} "
                              f"{note['author'] or ''} {note['text']}")  # fmt: skip

    def _work(self, opts: dict[str, Any]) -> tuple[Any, Any]:
        from ggzy.supervision import selectors

        actor = _actor(opts["as_user"])
        return actor, selectors.get_alert(actor, opts["alert"])

    def _assign(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services

        actor, alert = self._work(opts)
        services.assign(actor=actor, alert=alert,
                        assignee=services.assignee_by_username(actor, opts["assignee"]))  # fmt: skip
        self.stdout.write(f"assigned {alert.public_id} to {opts['assignee']}")

    def _note(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services

        actor, alert = self._work(opts)
        services.annotate(actor=actor, alert=alert, text=opts["text"])
        self.stdout.write(f"noted {alert.public_id}")

    def _dismiss(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services

        actor, alert = self._work(opts)
        services.dismiss(actor=actor, alert=alert, reason=opts["reason"])
        self.stdout.write(f"dismissed {alert.public_id}")

    def _escalate(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services

        actor, alert = self._work(opts)
        services.escalate(actor=actor, alert=alert, target=opts["target"], text=opts["text"])
        self.stdout.write(f"escalated {alert.public_id} to {opts['target']}")

    def _reopen(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services

        actor, alert = self._work(opts)
        services.reopen(actor=actor, alert=alert, reason=opts["reason"])
        self.stdout.write(f"reopened {alert.public_id}")

    # --- thresholds -----------------------------------------------------------------------------

    def _settings(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import thresholds

        groups = thresholds.describe(_actor(opts["as_user"]))
        if opts["json"]:
            self._print(groups)
            return
        for g in groups:
            self.stdout.write(f"{g['name']} (version {g['version']}): {g['description']}")
            for key, value in g["values"].items():
                self.stdout.write(f"  {key} = {json.dumps(value, ensure_ascii=False)}")

    def _set(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import services, thresholds

        actor = _actor(opts["as_user"])
        current = next((g["values"] for g in thresholds.describe(actor)
                        if g["name"] == opts["group"]), {})  # fmt: skip
        values = dict(current)
        for pair in opts["values"]:
            key, sep, raw = pair.partition("=")
            if not sep or not key:
                raise CommandError(f"KEY=VALUE expected: {pair}", returncode=2)
            values[key] = _value(raw)
        row = services.update_setting(actor=actor, name=opts["group"], value=values)
        self.stdout.write(f"{row.name} version {row.version}: "
                          f"{json.dumps(row.value, ensure_ascii=False)}")  # fmt: skip

    # --- the watchlist --------------------------------------------------------------------------

    def _watch(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import watchlist

        actor = _actor(opts["as_user"])
        if opts["watch_action"] == "add":
            row = watchlist.add(actor=actor, kind=opts["kind"], value=opts["value"],
                                reason=opts["reason"])  # fmt: skip
            self.stdout.write(f"added {row.public_id}")
        elif opts["watch_action"] == "remove":
            row = watchlist.remove(actor=actor, public_id=opts["entry"])
            self.stdout.write(f"removed {row.public_id}")
        else:
            for e in watchlist.entries(actor):
                self.stdout.write(f"{e.public_id}  {e.kind:<12} {e.value}  ({e.reason})")

    # --- historical data ------------------------------------------------------------------------

    def _import(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import datasets

        actor = _actor(opts["as_user"])
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=2)
        row = datasets.import_dataset(actor=actor, name=opts["name"],
                                      source_format=opts["format"], data=path.read_bytes(),
                                      file_name=path.name,
                                      skip_bad_rows=opts["skip_bad_rows"])  # fmt: skip
        self.stdout.write(f"{row.public_id}  {row.rows} bids, {row.tenders} tenders, "
                          f"{row.bidders} bidders, {len(row.skipped)} rows skipped")  # fmt: skip
        self._print(row.summary)

    def _datasets(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import selectors

        for d in selectors.datasets(_actor(opts["as_user"]))[:200]:
            self.stdout.write(f"{d.public_id}  {d.uploaded_at:%Y-%m-%d %H:%M}  {d.source_format:<4} "
                              f"{d.rows:>9} bids {d.tenders:>7} tenders  {d.name}")  # fmt: skip

    def _report(self, opts: dict[str, Any]) -> None:
        from ggzy.supervision import datasets, selectors

        row = selectors.get_dataset(_actor(opts["as_user"]), opts["dataset"])
        content = datasets.report_csv(row, opts["part"])
        if opts["out"] == "-":
            sys.stdout.buffer.write(content)
        else:
            Path(opts["out"]).write_bytes(content)
            self.stdout.write(f"wrote {opts['out']} ({len(content)} bytes)")
