from django.apps import AppConfig


class AwardConfig(AppConfig):
    name = "ggzy.award"
    label = "award"
    verbose_name = "中标结果与合同"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.award.rules import AwardScope, scope_rule

        register_object_rule(AwardScope, scope_rule)
