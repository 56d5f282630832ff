from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "ggzy.supervision"
    label = "supervision"
    verbose_name = "智慧监管"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from ggzy.supervision.watchlist import on_login_safely

        # the watchlist hears every sign-in; accounts does not know supervision exists
        user_logged_in.connect(on_login_safely, dispatch_uid="supervision_watchlist")
