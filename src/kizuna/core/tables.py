"""Columns of list views, shared by the HTML lists and the exports."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kizuna.core import customfields


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    value: Callable[[Any], Any]
    link: Callable[[Any], str] | None = None
    sort: str | None = None
    # Hidden on phone-width screens.
    optional: bool = False
    # Shown in the HTML list; every column goes into exports.
    listed: bool = True


def custom_field_columns(object_type: str, users: dict | None = None) -> list[Column]:
    def value(definition) -> Callable[[Any], Any]:
        return lambda obj: customfields.display_value(
            definition, obj.custom_field_data.get(definition.key), users
        )

    return [
        Column(
            key=f"cf_{d.key}",
            label=d.display_label(),
            value=value(d),
            optional=True,
            listed=d.show_in_list,
        )
        for d in customfields.definitions(object_type)
    ]


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    return str(value)
