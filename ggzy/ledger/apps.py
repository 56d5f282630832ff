from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ggzy.ledger"
    label = "ledger"
    verbose_name = "交易留痕账本"

    def ready(self) -> None:
        from ggzy.ledger import triggers

        triggers.install_connection_hooks()
