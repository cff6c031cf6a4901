from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "kizuna.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from kizuna.automation import jobs

        jobs.connect_signals()
        # Every app's tasks.py registers its tasks and periodic schedules, so
        # that a consumer (in `kizuna serve` or `kizuna worker`) knows them.
        autodiscover_modules("tasks")
