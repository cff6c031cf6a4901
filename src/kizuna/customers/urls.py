from django.urls import path

from kizuna.customers import views


def record_paths(object_type: str, plural: str, detail_view) -> list:
    """The pages every customer record has: list, new, detail, edit, history."""
    kind = {"object_type": object_type}
    return [
        path(f"{plural}/new/", views.record_create, kind, name=f"{object_type}_create"),
        path(f"{plural}/<int:pk>/", detail_view, name=f"{object_type}_detail"),
        path(f"{plural}/<int:pk>/edit/", views.record_edit, kind, name=f"{object_type}_edit"),
        path(
            f"{plural}/<int:pk>/history/",
            views.record_history,
            kind,
            name=f"{object_type}_history",
        ),
        path(f"{plural}/<int:pk>/delete/", views.record_delete, kind, name=f"{object_type}_delete"),
    ]


app_name = "customers"
urlpatterns = [
    path("companies/", views.company_list, name="company_list"),
    path("companies/pick/", views.record_pick, {"object_type": "company"}, name="company_pick"),
    *record_paths("company", "companies", views.company_detail),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/pick/", views.record_pick, {"object_type": "contact"}, name="contact_pick"),
    *record_paths("contact", "contacts", views.contact_detail),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/pick/", views.record_pick, {"object_type": "lead"}, name="lead_pick"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    *record_paths("lead", "leads", views.lead_detail),
]
