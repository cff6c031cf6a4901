from django.urls import path

from kizuna.customers import views

app_name = "customers"
urlpatterns = [
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/pick/", views.company_pick, name="company_pick"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path(
        "companies/<int:pk>/history/",
        views.record_history,
        {"object_type": "company"},
        name="company_history",
    ),
    path(
        "companies/<int:pk>/delete/",
        views.record_delete,
        {"object_type": "company"},
        name="company_delete",
    ),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/pick/", views.contact_pick, name="contact_pick"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path(
        "contacts/<int:pk>/history/",
        views.record_history,
        {"object_type": "contact"},
        name="contact_history",
    ),
    path(
        "contacts/<int:pk>/delete/",
        views.record_delete,
        {"object_type": "contact"},
        name="contact_delete",
    ),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/pick/", views.lead_pick, name="lead_pick"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path(
        "leads/<int:pk>/history/",
        views.record_history,
        {"object_type": "lead"},
        name="lead_history",
    ),
]
