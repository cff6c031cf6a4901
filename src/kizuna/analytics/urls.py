from django.urls import path  # noqa: F401

from kizuna.analytics import urls_reports

app_name = "analytics"

urlpatterns: list = []
urlpatterns += urls_reports.urlpatterns
