from django.urls import path

from kizuna.analytics import urls_reports, views

app_name = "analytics"

urlpatterns: list = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/executive/", views.executive, name="executive"),
    path("dashboard/manager/", views.manager, name="manager"),
    path("dashboard/me/", views.me, name="me"),
    path("dashboard/drill/", views.drill, name="drill"),
    path("settings/targets/", views.target_list, name="target_list"),
    path("settings/targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
]
urlpatterns += urls_reports.urlpatterns
