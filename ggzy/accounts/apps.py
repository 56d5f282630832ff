from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ggzy.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        # Sign-in time is domain time: ``services.authenticate`` stamps it from ``core.clock``;
        # Django's own receiver would overwrite it with the wall clock.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
