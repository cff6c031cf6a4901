"""Custom field definitions, read only, so that clients know what ``custom_fields`` holds."""

from typing import Any

from ninja import Query, Router, Schema

from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.core.models import CustomFieldDefinition

router = Router(tags=["custom fields"])


class CustomFieldOut(Schema):
    id: int
    object_type: str
    key: str
    label: str
    label_ja: str
    label_ko: str
    field_type: str
    choices: list[Any]
    currency: str
    required: bool
    show_in_list: bool
    position: int


class CustomFieldFilters(Schema):
    object_type: str | None = None


@router.get("/custom-fields", response=page_schema(CustomFieldOut))
def list_custom_fields(request, filters: Query[CustomFieldFilters], page: Query[PageQuery]):
    qs = CustomFieldDefinition.objects.all()
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    return paginate(qs, page)
