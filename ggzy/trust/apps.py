from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "ggzy.trust"
    label = "trust"
    verbose_name = "CA 互认与电子签名"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ggzy.accounts.gate import register_object_rule
        from ggzy.trust.models import CertificateBinding, DocumentSignature, SealedEnvelope
        from ggzy.trust.rules import binding_rule, envelope_rule, signature_rule

        register_object_rule(CertificateBinding, binding_rule)
        register_object_rule(SealedEnvelope, envelope_rule)
        register_object_rule(DocumentSignature, signature_rule)
