"""The report builder's form: rows of filters, groupings and measures <-> a spec.

The builder is re-rendered on the server as the user changes it (htmx), so
each filter row offers the conditions and the value widget that fit its
field: a list for choices, users and teams, periods for dates.
"""

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kizuna.analytics import reports
from kizuna.iam.models import Team

MAX_FILTER_ROWS = reports.MAX_FILTERS
MAX_MEASURE_ROWS = reports.MAX_MEASURES


@dataclass
class FilterRow:
    index: int
    field: str = ""
    op: str = ""
    values: list[str] = dc_field(default_factory=list)
    period: str = ""
    date_from: str = ""
    date_to: str = ""
    errors: list[str] = dc_field(default_factory=list)
    # Filled in for rendering:
    kind: str = ""
    ops: list[tuple[str, str]] = dc_field(default_factory=list)
    choices: list[tuple[str, str]] = dc_field(default_factory=list)

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


@dataclass
class GroupRow:
    index: int
    field: str = ""
    period: str = ""
    errors: list[str] = dc_field(default_factory=list)
    is_date: bool = False


@dataclass
class MeasureRow:
    index: int
    op: str = "count"
    field: str = ""
    errors: list[str] = dc_field(default_factory=list)


@dataclass
class Builder:
    name: str = ""
    object_type: str = "deal"
    chart: str = "table"
    shared: bool = False
    pinned: bool = False
    filters: list[FilterRow] = dc_field(default_factory=list)
    groups: list[GroupRow] = dc_field(default_factory=list)
    measures: list[MeasureRow] = dc_field(default_factory=list)
    errors: dict[str, list[str]] = dc_field(default_factory=dict)
    # Spec index -> row index, to put a spec error on its row.
    filter_map: list[int] = dc_field(default_factory=list)
    measure_map: list[int] = dc_field(default_factory=list)
    group_map: list[int] = dc_field(default_factory=list)

    # The catalogue of the chosen object, for the selects.
    fields: dict[str, reports.FieldDef] = dc_field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """The raw spec of the rows that are filled in (``clean_spec`` checks it)."""
        filters, groups, measures = [], [], []
        self.filter_map, self.group_map, self.measure_map = [], [], []
        for row in self.filters:
            if not row.field:
                continue
            value: Any
            if row.op == "period":
                value = row.period
            elif row.op == "between":
                value = {"from": row.date_from, "to": row.date_to}
            elif row.op in ("in", "not_in"):
                value = row.values
            else:
                value = row.value
            filters.append({"field": row.field, "op": row.op, "value": value})
            self.filter_map.append(row.index)
        for group in self.groups:
            if group.field:
                groups.append({"field": group.field, "period": group.period or "month"})
                self.group_map.append(group.index)
        for measure in self.measures:
            if measure.op == "count":
                measures.append({"op": "count"})
                self.measure_map.append(measure.index)
            elif measure.op:
                measures.append({"op": measure.op, "field": measure.field})
                self.measure_map.append(measure.index)
        return {
            "object": self.object_type,
            "filters": filters,
            "group_by": groups,
            "measures": measures,
            "chart": self.chart,
        }

    def add_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Put ``clean_spec``'s errors (``filters.0.value`` …) on their rows."""
        for key, messages in message_dict.items():
            key = key.removeprefix("spec.")
            parts = key.split(".")
            rows: dict[str, tuple[list, list[int]]] = {
                "filters": (self.filters, self.filter_map),
                "group_by": (self.groups, self.group_map),
                "measures": (self.measures, self.measure_map),
            }
            if parts[0] in rows and len(parts) > 1 and parts[1].isdigit():
                row_list, mapping = rows[parts[0]]
                i = int(parts[1])
                if i < len(mapping):
                    row_list[mapping[i]].errors.extend(messages)
                    continue
            self.errors.setdefault(parts[0], []).extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.errors
            or any(r.errors for r in self.filters)
            or any(r.errors for r in self.groups)
            or any(r.errors for r in self.measures)
        )

    # Choices for the template -----------------------------------------------------

    def filter_fields(self) -> list[tuple[str, str]]:
        return [(k, capfirst(str(f.label))) for k, f in self.fields.items()]

    def group_fields(self) -> list[tuple[str, str]]:
        return [(k, capfirst(str(f.label))) for k, f in self.fields.items() if f.groupable]

    def number_fields(self) -> list[tuple[str, str]]:
        return [
            (k, capfirst(str(f.label)))
            for k, f in self.fields.items()
            if f.kind in (reports.NUMBER, reports.MONEY)
        ]


def _value_choices(fd: reports.FieldDef, user) -> list[tuple[str, str]]:
    if fd.kind == reports.CHOICE:
        return [(str(v), str(label)) for v, label in fd.choice_list() if v != ""]
    if fd.kind == reports.BOOL:
        return [("true", _("Yes")), ("false", _("No"))]
    if fd.kind == reports.FK and fd.key in ("owner", "assignee"):
        users = get_user_model().objects.filter(is_active=True)
        me = [(reports.ME, _("Me"))] if fd.key == "owner" else []
        return me + [(str(u.pk), str(u)) for u in users]
    if fd.kind == reports.FK and fd.key == "team":
        return [(reports.MY_TEAM, _("My team"))] + [(str(t.pk), str(t)) for t in Team.objects.all()]
    if (
        fd.kind == reports.FK
        and fd.model is not None
        and fd.key in ("stage", "pipeline", "loss_reason")
    ):
        return [(str(o.pk), str(o)) for o in fd.model._default_manager.all()[:200]]
    return []


def _prepare(builder: Builder, user) -> Builder:
    builder.fields = reports.catalogue(builder.object_type)
    for row in builder.filters:
        fd = builder.fields.get(row.field)
        if fd is None:
            row.field = ""
            continue
        row.kind = fd.kind
        row.ops = [(op, str(reports.OP_LABELS[op])) for op in reports.OPS[fd.kind]]
        if row.op not in reports.OPS[fd.kind]:
            row.op = reports.OPS[fd.kind][0]
        row.choices = _value_choices(fd, user)
    for group in builder.groups:
        fd = builder.fields.get(group.field)
        group.is_date = bool(fd and fd.kind in (reports.DATE, reports.DATETIME))
    return builder


def builder_from_data(data, user) -> Builder:
    """The builder as posted; ``add_filter`` / ``add_measure`` add an empty row."""
    object_type = data.get("object") or "deal"
    if object_type not in reports.MODELS:
        object_type = "deal"
    changed_object = data.get("previous_object") not in (None, "", object_type)
    builder = Builder(
        name=data.get("name", "").strip(),
        object_type=object_type,
        chart=data.get("chart") or "table",
        shared=data.get("shared") in ("on", "1", "true"),
        pinned=data.get("pinned") in ("on", "1", "true"),
    )
    try:
        filter_rows = min(int(data.get("filter_rows") or 1), MAX_FILTER_ROWS)
        measure_rows = min(int(data.get("measure_rows") or 1), MAX_MEASURE_ROWS)
    except ValueError:
        filter_rows, measure_rows = 1, 1
    if not changed_object:
        for i in range(filter_rows):
            builder.filters.append(
                FilterRow(
                    index=i,
                    field=data.get(f"f-{i}-field", ""),
                    op=data.get(f"f-{i}-op", ""),
                    values=[v for v in data.getlist(f"f-{i}-value") if v != ""],
                    period=data.get(f"f-{i}-period", ""),
                    date_from=data.get(f"f-{i}-from", ""),
                    date_to=data.get(f"f-{i}-to", ""),
                )
            )
        for i in range(2):
            builder.groups.append(
                GroupRow(
                    index=i,
                    field=data.get(f"g-{i}-field", ""),
                    period=data.get(f"g-{i}-period", ""),
                )
            )
        for i in range(measure_rows):
            builder.measures.append(
                MeasureRow(
                    index=i, op=data.get(f"m-{i}-op", "count"), field=data.get(f"m-{i}-field", "")
                )
            )
    if data.get("add_filter") and len(builder.filters) < MAX_FILTER_ROWS:
        builder.filters.append(FilterRow(index=len(builder.filters)))
    if data.get("add_measure") and len(builder.measures) < MAX_MEASURE_ROWS:
        builder.measures.append(MeasureRow(index=len(builder.measures)))
    _fill_empty(builder)
    return _prepare(builder, user)


def _fill_empty(builder: Builder) -> None:
    if not builder.filters:
        builder.filters.append(FilterRow(index=0))
    while len(builder.groups) < 2:
        builder.groups.append(GroupRow(index=len(builder.groups)))
    if not builder.measures:
        builder.measures.append(MeasureRow(index=0))


def builder_from_spec(spec: dict, user, **attrs: Any) -> Builder:
    """The builder showing a saved spec."""
    builder = Builder(
        object_type=spec.get("object", "deal"), chart=spec.get("chart", "table"), **attrs
    )
    for i, f in enumerate(spec.get("filters") or []):
        row = FilterRow(index=i, field=f.get("field", ""), op=f.get("op", ""))
        value = f.get("value")
        if row.op == "period":
            row.period = value or ""
        elif row.op == "between" and isinstance(value, dict):
            row.date_from, row.date_to = value.get("from", ""), value.get("to", "")
        elif isinstance(value, list):
            row.values = [str(v) for v in value]
        elif value is not None:
            row.values = [str(value).lower() if isinstance(value, bool) else str(value)]
        builder.filters.append(row)
    for i, g in enumerate(spec.get("group_by") or []):
        builder.groups.append(
            GroupRow(index=i, field=g.get("field", ""), period=g.get("period", ""))
        )
    for i, m in enumerate(spec.get("measures") or []):
        builder.measures.append(
            MeasureRow(index=i, op=m.get("op", "count"), field=m.get("field", ""))
        )
    _fill_empty(builder)
    return _prepare(builder, user)
