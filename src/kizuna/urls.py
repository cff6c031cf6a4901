from django.urls import include, path

from kizuna.api.api import api

urlpatterns = [
    path("", include("kizuna.core.urls")),
    path("", include("kizuna.iam.urls")),
    path("", include("kizuna.customers.urls")),
    path("", include("kizuna.activities.urls")),
    path("", include("kizuna.sales.urls")),
    path("", include("kizuna.automation.urls")),
    path("", include("kizuna.imports.urls")),
    path("", include("kizuna.dedup.urls")),
    path("", include("kizuna.mail.urls")),
    path("", include("kizuna.analytics.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
