from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "ggzy.ledger"
    label = "ledger"
    verbose_name = "交易留痕账本"

    def ready(self) -> None:
        from ggzy.ledger import triggers

        triggers.install_connection_hooks()
        # SQLite rebuilds a table to alter it, dropping its triggers: reinstall after every migrate.
        post_migrate.connect(_reinstall_triggers, sender=self, dispatch_uid="ggzy_ledger_triggers")


def _reinstall_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from ggzy.ledger import triggers

    with connections[using].schema_editor() as editor:
        triggers.install(editor)
