from django.apps import AppConfig


class ExpertsConfig(AppConfig):
    name = "ggzy.experts"
    label = "experts"
    verbose_name = "评标专家库"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.experts.models import Expert
        from ggzy.experts.rules import expert_rule

        register_object_rule(Expert, expert_rule)
