from django.urls import path

from kizuna.mail import views

app_name = "mail"

urlpatterns = [
    path("mail/compose/", views.compose, name="compose"),
    path("mail/compose/fill/", views.compose_fill, name="compose_fill"),
    path("mail/messages/<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("mail/inbound/<str:token>/", views.inbound, name="inbound"),
    path("me/digest/", views.digest_preferences, name="digest_preferences"),
    path("settings/mail/incoming/", views.incoming_settings, name="incoming_settings"),
    path("settings/mail/templates/", views.template_list, name="template_list"),
    path("settings/mail/templates/new/", views.template_edit, name="template_create"),
    path("settings/mail/templates/preview/", views.template_preview, name="template_preview"),
    path("settings/mail/templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("settings/mail/templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
