from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "ggzy.evaluation"
    label = "evaluation"
    verbose_name = "评标"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.evaluation.models import EvaluationSession
        from ggzy.evaluation.rules import session_rule

        register_object_rule(EvaluationSession, session_rule)
