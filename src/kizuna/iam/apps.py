from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IamConfig(AppConfig):
    name = "kizuna.iam"
    label = "iam"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        from kizuna.iam import receivers  # noqa: F401
