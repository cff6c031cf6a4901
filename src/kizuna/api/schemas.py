"""Schema pieces every record type shares."""

import datetime
from typing import Any

from ninja import Schema


class RecordOut(Schema):
    """Owner, team, tags, custom fields and version: what every owned record has."""

    id: int
    owner: int
    team: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_owner(obj) -> int:
        return obj.owner_id

    @staticmethod
    def resolve_team(obj) -> int | None:
        return obj.team_id

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        # Sorted in Python so that a prefetch of ``tags`` is used.
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_custom_fields(obj) -> dict[str, Any]:
        return obj.custom_field_data or {}


class RecordIn(Schema):
    """Owner, team, tags and custom fields, accepted on create and update."""

    owner: int | None = None
    team: int | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class VersionIn(Schema):
    # The version the client read; the If-Match header may carry it instead.
    version: int | None = None
