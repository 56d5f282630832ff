from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "ggzy.disclosure"
    label = "disclosure"
    verbose_name = "信息公开"
    default_auto_field = "django.db.models.BigAutoField"
