from django.urls import path

from kizuna.dedup import views

app_name = "dedup"
urlpatterns = [
    path("duplicates/", views.queue, name="queue"),
    path("duplicates/hint/", views.hint, name="hint"),
    path("duplicates/scan/", views.scan_start, name="scan_start"),
    path("duplicates/scan/<int:pk>/", views.scan_progress, name="scan_progress"),
    path("duplicates/scan/<int:pk>/cancel/", views.scan_cancel, name="scan_cancel"),
    path("duplicates/<int:pk>/", views.compare, name="compare"),
    path("duplicates/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("duplicates/merges/", views.merge_history, name="merge_history"),
    path("duplicates/merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
