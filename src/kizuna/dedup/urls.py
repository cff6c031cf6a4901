from django.urls import path

from kizuna.dedup import views

app_name = "dedup"
urlpatterns = [
    path("duplicates/", views.queue, name="queue"),
    path("duplicates/hint/", views.hint, name="hint"),
    path("duplicates/<int:pk>/", views.compare, name="compare"),
    path("duplicates/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("duplicates/merges/", views.merge_history, name="merge_history"),
    path("duplicates/merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
