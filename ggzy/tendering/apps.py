from django.apps import AppConfig


class TenderingConfig(AppConfig):
    name = "ggzy.tendering"
    label = "tendering"
    verbose_name = "招标项目"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.tendering.models import Objection, Project
        from ggzy.tendering.rules import objection_rule, project_rule

        register_object_rule(Project, project_rule)
        register_object_rule(Objection, objection_rule)
