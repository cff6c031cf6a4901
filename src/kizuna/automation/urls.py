from django.urls import path

from kizuna.automation import rule_views, views

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
    path("settings/rules/", rule_views.rule_list, name="rule_list"),
    path("settings/rules/new/", rule_views.rule_create, name="rule_create"),
    path("settings/rules/<int:pk>/", rule_views.rule_detail, name="rule_detail"),
    path("settings/rules/<int:pk>/edit/", rule_views.rule_edit, name="rule_edit"),
    path("settings/rules/<int:pk>/toggle/", rule_views.rule_toggle, name="rule_toggle"),
    path("settings/rules/<int:pk>/delete/", rule_views.rule_delete, name="rule_delete"),
    path("settings/assignment/", rule_views.assignment_list, name="assignment_list"),
    path(
        "settings/assignment/<int:pk>/toggle/",
        rule_views.assignment_toggle,
        name="assignment_toggle",
    ),
    path(
        "settings/assignment/<int:pk>/delete/",
        rule_views.assignment_delete,
        name="assignment_delete",
    ),
    path("me/away/", rule_views.away_set, name="away_set"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("me/calendar-feed/", views.calendar_feed_regenerate, name="calendar_feed_regenerate"),
    path("me/calendar-feed/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/bell/", views.notification_badge, name="notification_badge"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
]
