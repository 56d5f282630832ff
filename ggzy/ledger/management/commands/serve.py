"""``ggzy serve [ADDR:PORT]``: serve the platform (portal, admin, API docs)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Serve OpenGGZY on http://127.0.0.1:8000 (portal /, admin /admin/, API docs /api/v1/docs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--reload", action="store_true", help="restart on code changes (development)"
        )

    def handle(self, *args: Any, addrport: str, reload: bool, **opts: Any) -> None:
        from ggzy.ledger import signing

        signing.ensure_key()
        from django.conf import settings

        if settings.GGZY_LEDGER_MODE == "deferred" and settings.GGZY_LEDGER_CHAINER == "process":
            import threading

            from ggzy.ledger.append import run_chainer

            threading.Thread(target=run_chainer, name="ledger-chainer", daemon=True).start()
            self.stdout.write(
                "ledger chainer running in this process (GGZY_LEDGER_CHAINER=process)"
            )
        self.stdout.write(f"OpenGGZY: http://{addrport}/  admin: /admin/  API docs: /api/v1/docs")
        call_command("runserver", addrport, use_reloader=reload, use_threading=True)
