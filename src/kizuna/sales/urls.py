from django.urls import path

from kizuna.sales import urls_quotes, views

app_name = "sales"
urlpatterns = [
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/board/", views.board, name="board"),
    path("deals/board/stages/<int:stage_pk>/", views.board_column, name="board_column"),
    path("deals/forecast/", views.forecast, name="forecast"),
    path("deals/pick/", views.deal_pick, name="deal_pick"),
    path("deals/bulk-move/", views.deal_bulk_move, name="deal_bulk_move"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/checklist/", views.deal_checklist, name="deal_checklist"),
    path("deals/<int:pk>/contacts/", views.deal_contacts, name="deal_contacts"),
    path("deals/<int:pk>/history/", views.deal_history, name="deal_history"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="deal_delete"),
    path("settings/pipelines/", views.pipeline_list, name="pipeline_list"),
    path("settings/pipelines/new/", views.pipeline_edit, name="pipeline_create"),
    path("settings/pipelines/template/", views.pipeline_template, name="pipeline_template"),
    path("settings/pipelines/<int:pk>/", views.pipeline_edit, name="pipeline_edit"),
]
urlpatterns += urls_quotes.urlpatterns
