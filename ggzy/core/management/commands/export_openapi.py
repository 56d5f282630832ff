"""``ggzy export_openapi FILE [--check]``: write the OpenAPI document, or fail if it changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Write the API's OpenAPI document (committed under docs/ and diffed in CI)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--check", action="store_true", help="fail if the file differs")

    def handle(self, *args: Any, path: str, check: bool, **opts: Any) -> None:
        from ggzy.api import api

        text = (
            json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True)
            + "\n"
        )
        target = Path(path)
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is out of date: run `make openapi` and commit it")
            self.stdout.write(f"{path} is up to date")
            return
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
