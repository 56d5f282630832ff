from django.apps import AppConfig


class BiddingConfig(AppConfig):
    name = "ggzy.bidding"
    label = "bidding"
    verbose_name = "投标与开标"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.bidding.models import Deposit
        from ggzy.bidding.rules import deposit_rule

        register_object_rule(Deposit, deposit_rule)
