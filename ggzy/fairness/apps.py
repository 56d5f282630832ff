from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "ggzy.fairness"
    label = "fairness"
    verbose_name = "公平竞争审查"
    default_auto_field = "django.db.models.BigAutoField"
