from django.apps import AppConfig


class VenuesConfig(AppConfig):
    name = "ggzy.venues"
    label = "venues"
    verbose_name = "场地与远程异地评标"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.venues.models import SessionVenue
        from ggzy.venues.rules import witness_rule

        register_object_rule(SessionVenue, witness_rule)
