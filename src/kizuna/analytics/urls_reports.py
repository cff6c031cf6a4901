"""URLs of the report builder, included by ``analytics/urls.py``."""

from django.urls import path

from kizuna.analytics import views_reports as views

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:pk>/export/", views.report_export, name="report_export"),
    path("reports/<int:pk>/schedule/", views.report_schedule, name="report_schedule"),
    path("reports/<int:pk>/delete/", views.report_delete, name="report_delete"),
]
