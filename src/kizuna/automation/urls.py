from django.urls import path

from kizuna.automation import views

app_name = "automation"
urlpatterns = [
    path("settings/jobs/", views.job_list, name="job_list"),
    path("settings/jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("settings/jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("settings/calendar/", views.calendar_settings, name="calendar_settings"),
    path("settings/calendar/days-off/", views.day_off_add, name="dayoff_add"),
    path("settings/calendar/days-off/<int:pk>/delete/", views.day_off_delete, name="dayoff_delete"),
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("settings/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhooks/deliveries/<int:pk>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("me/calendar-feed/", views.calendar_feed_regenerate, name="calendar_feed_regenerate"),
    path("me/calendar-feed/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/bell/", views.notification_badge, name="notification_badge"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
]
