from django.urls import path

from kizuna.activities import views

app_name = "activities"
urlpatterns = [
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/mentions/", views.mention_candidates, name="mention_candidates"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/toggle-done/", views.task_toggle, name="task_toggle"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("activities/<int:pk>/history/", views.activity_history, name="activity_history"),
]
