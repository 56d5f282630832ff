from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "ggzy.registry"
    label = "registry"
    verbose_name = "市场主体库"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.registry.models import Entity
        from ggzy.registry.rules import entity_rule

        register_object_rule(Entity, entity_rule)
