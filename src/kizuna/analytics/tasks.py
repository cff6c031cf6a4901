from kizuna.analytics.tasks_reports import send_scheduled_reports  # noqa: F401
