from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """Complaints to the regulator (投诉) with their statutory timers (R29 / R30)."""

    name = "ggzy.complaints"
    label = "complaints"
    verbose_name = _("投诉处理")
    default_auto_field = "django.db.models.BigAutoField"
