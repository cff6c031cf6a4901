"""URLs of products, quotes and quote settings, included by ``sales/urls.py``."""

from django.urls import path

from kizuna.sales import views_quotes as views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/decide/", views.quote_decide, name="quote_decide"),
    path("deals/<int:pk>/quotes/new/", views.deal_quote_create, name="deal_quote_create"),
    path("deals/<int:pk>/quotes/preview/", views.deal_quote_preview, name="deal_quote_preview"),
    path("settings/quotes/", views.sales_settings, name="sales_settings"),
]
