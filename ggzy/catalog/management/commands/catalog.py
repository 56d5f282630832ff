"""``ggzy catalog install | list | show CODE [--version N] | publish CODE FILE [--note N]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError

ACTOR = "system:cli"


class Command(BaseCommand):
    help = "The trading catalog (交易目录): install the defaults, list, show, publish a ruleset."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("install", help="create the default categories and their first rulesets")
        sub.add_parser("list", help="categories, procedures and current ruleset versions")
        show = sub.add_parser("show", help="a category's ruleset (current, or --version N) as JSON")
        show.add_argument("code")
        show.add_argument("--version", type=int)
        pub = sub.add_parser("publish", help="publish the next ruleset version from a JSON file")
        pub.add_argument("code")
        pub.add_argument("file", help='JSON object of rules, e.g. from `show` (its "rules" part)')
        pub.add_argument("--note", default="")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from ggzy.catalog import selectors, services

        try:
            if action == "install":
                n = services.install_default_catalog(actor=ACTOR)
                self.stdout.write(f"{n} categories installed")
            elif action == "list":
                for c in selectors.categories():
                    procedures = ",".join(p.code for p in c.procedures.all())
                    version = selectors.current_ruleset(c).version
                    self.stdout.write(f"{c.code:<16} v{version:<3} {c.name}  [{procedures}]")
            elif action == "show":
                category = selectors.get_category(opts["code"])
                r = (
                    selectors.get_ruleset(category, opts["version"])
                    if opts["version"]
                    else selectors.current_ruleset(category)
                )
                out = {**selectors.ruleset_view(r), "published_at": r.published_at.isoformat()}
                out["rules"] = {x["key"]: x["value"] for x in out["rules"]}
                self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            elif action == "publish":
                self._publish(opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _publish(self, opts: dict[str, Any]) -> None:
        from ggzy.catalog import selectors, services

        try:
            data = json.loads(Path(opts["file"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"[bad_file] {exc}") from exc
        rules_ = data.get("rules", data) if isinstance(data, dict) else data
        r = services.publish_ruleset(
            actor=ACTOR,
            category=selectors.get_category(opts["code"]),
            rules_=rules_,
            note=opts["note"],
        )
        self.stdout.write(f"{opts['code']}: ruleset v{r.version} published")
