from kizuna.analytics.models_reports import ReportSchedule, SavedReport  # noqa: F401
