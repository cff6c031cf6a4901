from django.urls import path

from kizuna.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit_log"),
    path("settings/custom-fields/", views.customfield_list, name="customfield_list"),
    path("settings/custom-fields/new/", views.customfield_edit, name="customfield_create"),
    path("settings/custom-fields/<int:pk>/", views.customfield_edit, name="customfield_edit"),
    path(
        "settings/custom-fields/<int:pk>/delete/",
        views.customfield_delete,
        name="customfield_delete",
    ),
    path("settings/access/", views.access_settings, name="access_settings"),
    path("share/<str:object_type>/<int:pk>/", views.share, name="share"),
]
