"""The report builder's query compiler.

A report is a JSON spec::

    {"object": "deal",
     "filters": [{"field": "status", "op": "in", "value": ["won"]},
                 {"field": "closed_at", "op": "period", "value": "last_12_months"}],
     "group_by": [{"field": "company.industry"},
                  {"field": "closed_at", "period": "quarter"}],
     "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
     "chart": "bar"}

``clean_spec`` checks it against the object's field catalogue and explains
every problem in the user's language; ``run`` compiles it to one grouped ORM
query over ``core.access.visible(...)`` and returns the rows. Input never
reaches SQL as text: fields are looked up in the catalogue, values are query
parameters.

Dates group by month, fiscal quarter or fiscal year (the org's fiscal year
start). The bucket of a row is a ``CASE`` over the period boundaries,
computed here in the user's time zone, so both databases group natively and
the same way. Money is summed per currency: a sum or an average of a money
field adds the currency as a grouping, and JPY is never added to KRW.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kizuna.core import access
from kizuna.core.models import CustomFieldDefinition, OrgSettings

# Field kinds ---------------------------------------------------------------------

TEXT = "text"
NUMBER = "number"
MONEY = "money"
DATE = "date"
DATETIME = "datetime"
CHOICE = "choice"
FK = "fk"
BOOL = "bool"
TAGS = "tags"

OPS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "contains", "empty", "not_empty"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    MONEY: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    DATE: ("period", "between", "gte", "lt", "empty", "not_empty"),
    DATETIME: ("period", "between", "gte", "lt", "empty", "not_empty"),
    CHOICE: ("in", "not_in", "empty", "not_empty"),
    FK: ("in", "not_in", "empty", "not_empty"),
    BOOL: ("is",),
    TAGS: ("in", "not_in"),
}
OP_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": gettext_lazy("is any of"),
    "not_in": gettext_lazy("is none of"),
    "period": gettext_lazy("in the period"),
    "between": gettext_lazy("between"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
    "is": gettext_lazy("is"),
}
GROUPABLE = (TEXT, NUMBER, DATE, DATETIME, CHOICE, FK, BOOL)
DATE_GROUPS = {
    "month": gettext_lazy("by month"),
    "quarter": gettext_lazy("by quarter"),
    "fiscal_year": gettext_lazy("by fiscal year"),
}
PERIODS = {
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "next_quarter": gettext_lazy("Next quarter"),
    "this_fiscal_year": gettext_lazy("This fiscal year"),
    "last_fiscal_year": gettext_lazy("Last fiscal year"),
    "last_30_days": gettext_lazy("Last 30 days"),
    "last_90_days": gettext_lazy("Last 90 days"),
    "last_12_months": gettext_lazy("Last 12 months"),
}
MEASURES = {
    "count": gettext_lazy("Count"),
    "sum": gettext_lazy("Sum"),
    "avg": gettext_lazy("Average"),
}
CHARTS = {
    "table": gettext_lazy("Table"),
    "bar": gettext_lazy("Bars"),
    "stacked_bar": gettext_lazy("Stacked bars"),
    "line": pgettext_lazy("chart", "Lines"),
    "funnel": gettext_lazy("Funnel"),
}
MAX_FILTERS = 20
MAX_GROUPS = 2
MAX_MEASURES = 4
MAX_ROWS = 1000
MAX_BUCKETS = 400
CUSTOM_PREFIX = "cf."
ME = "me"
MY_TEAM = "my_team"


class FieldGone(Exception):
    """A saved report names a field that no longer exists (a deleted custom field)."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


# The catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: Any
    kind: str
    path: str = ""
    choices: Callable[[], list[tuple[Any, Any]]] | None = None
    # FK: the related model, whose records name the groups.
    model: Any = None
    # MONEY: the path of the currency column, or a fixed currency.
    currency_path: str = ""
    currency: str = ""
    custom: CustomFieldDefinition | None = None
    groupable: bool = True

    def expression(self):
        if self.custom is None:
            return F(self.path)
        text = KeyTextTransform(self.custom.key, "custom_field_data")
        if self.kind in (NUMBER, MONEY):
            return Cast(text, models.DecimalField(max_digits=20, decimal_places=4))
        if self.kind == FK:
            return Cast(text, models.BigIntegerField())
        if self.kind == BOOL:
            return text
        # A plain text expression: the JSON key lookups would read "in" values as JSON.
        return Cast(text, models.TextField())

    def choice_list(self) -> list[tuple[Any, Any]]:
        return list(self.choices()) if self.choices else []


def _choices(enum) -> Callable[[], list[tuple[Any, Any]]]:
    return lambda: list(enum.choices)


def _user_model():
    return get_user_model()


class _Joined:
    """``record: field`` (e.g. 取引先: 業種), translated when shown."""

    def __init__(self, record_label, field_label):
        self.record_label = record_label
        self.field_label = field_label

    def __str__(self) -> str:
        return _("%(record)s: %(field)s") % {
            "record": self.record_label,
            "field": self.field_label,
        }


def _company_refs(prefix: str, record_label) -> list[FieldDef]:
    from kizuna.customers.models import Company, CompanySize, Industry

    path = prefix.rstrip(".").replace(".", "__")
    meta = Company._meta
    return [
        FieldDef(prefix.rstrip("."), record_label, FK, path, model=Company),
        FieldDef(
            f"{prefix}industry",
            _Joined(record_label, meta.get_field("industry").verbose_name),
            CHOICE,
            f"{path}__industry",
            _choices(Industry),
        ),
        FieldDef(
            f"{prefix}size",
            _Joined(record_label, meta.get_field("size").verbose_name),
            CHOICE,
            f"{path}__size",
            _choices(CompanySize),
        ),
        FieldDef(
            f"{prefix}prefecture",
            _Joined(record_label, meta.get_field("prefecture").verbose_name),
            TEXT,
            f"{path}__prefecture",
        ),
    ]


def _verbose(model, name: str):
    return model._meta.get_field(name).verbose_name


def _builtin_fields(object_type: str) -> list[FieldDef]:
    from kizuna.activities.models import Activity
    from kizuna.customers.models import Company, CompanySize, Industry, Lead
    from kizuna.iam.models import Team
    from kizuna.sales.models import Captured, Deal, LossReason, Pipeline, Stage

    model = MODELS[object_type]()
    v = lambda name: _verbose(model, name)  # noqa: E731
    common = [
        FieldDef("owner", v("owner"), FK, "owner", model=_user_model()),
        FieldDef("team", v("team"), FK, "team", model=Team),
        FieldDef("created_at", v("created_at"), DATETIME, "created_at"),
        FieldDef("tags", v("tags"), TAGS, "tags", groupable=False),
    ]
    company_label = _verbose(Deal, "company")
    if object_type == "company":
        return [
            FieldDef("name", v("name"), TEXT, "name", groupable=False),
            FieldDef("kind", v("kind"), CHOICE, "kind", _choices(Company.Kind)),
            FieldDef("industry", v("industry"), CHOICE, "industry", _choices(Industry)),
            FieldDef("size", v("size"), CHOICE, "size", _choices(CompanySize)),
            FieldDef("prefecture", v("prefecture"), TEXT, "prefecture"),
            FieldDef("city", v("city"), TEXT, "city"),
            FieldDef("parent", v("parent"), FK, "parent", model=Company),
            *common,
        ]
    if object_type == "contact":
        return [
            FieldDef("title", v("title"), TEXT, "title"),
            FieldDef("department", v("department"), TEXT, "department"),
            *_company_refs("company.", company_label),
            *common,
        ]
    if object_type == "lead":
        return [
            FieldDef("status", v("status"), CHOICE, "status", _choices(Lead.Status)),
            FieldDef("channel", v("channel"), CHOICE, "channel", _choices(Lead.Channel)),
            FieldDef("campaign", v("campaign"), TEXT, "campaign"),
            FieldDef("prefecture", v("prefecture"), TEXT, "prefecture"),
            FieldDef("company_name", v("company_name"), TEXT, "company_name", groupable=False),
            FieldDef("converted_at", v("converted_at"), DATETIME, "converted_at"),
            *common,
        ]
    if object_type == "activity":
        return [
            FieldDef("kind", v("kind"), CHOICE, "kind", _choices(Activity.Kind)),
            FieldDef("occurred_at", v("occurred_at"), DATETIME, "occurred_at"),
            FieldDef("duration_minutes", v("duration_minutes"), NUMBER, "duration_minutes"),
            FieldDef("assignee", v("assignee"), FK, "assignee", model=_user_model()),
            FieldDef("due_date", v("due_date"), DATE, "due_date"),
            FieldDef("done_at", v("done_at"), DATETIME, "done_at"),
            FieldDef("deal", v("deal"), FK, "deal", model=Deal),
            *_company_refs("company.", company_label),
            *common,
        ]
    if object_type == "deal":
        captured = _choices(Captured)
        return [
            FieldDef("name", v("name"), TEXT, "name", groupable=False),
            FieldDef("status", v("status"), CHOICE, "status", _choices(Deal.Status)),
            FieldDef("pipeline", v("pipeline"), FK, "pipeline", model=Pipeline),
            FieldDef("stage", v("stage"), FK, "stage", model=Stage),
            FieldDef("amount", v("amount"), MONEY, "amount", currency_path="currency"),
            FieldDef("currency", v("currency"), TEXT, "currency"),
            FieldDef("probability", v("probability"), NUMBER, "probability"),
            FieldDef("expected_close_date", v("expected_close_date"), DATE, "expected_close_date"),
            FieldDef("closed_at", v("closed_at"), DATETIME, "closed_at"),
            FieldDef("channel", v("channel"), CHOICE, "channel", _choices(Lead.Channel)),
            FieldDef(
                "forecast_category",
                v("forecast_category"),
                CHOICE,
                "forecast_category",
                _choices(Deal.ForecastCategory),
            ),
            FieldDef("loss_reason", v("loss_reason"), FK, "loss_reason", model=LossReason),
            FieldDef(
                "first_reaction",
                v("first_reaction"),
                CHOICE,
                "first_reaction",
                _choices(Deal.Reaction),
            ),
            FieldDef(
                "competitor", v("competitor"), CHOICE, "competitor", _choices(Deal.Competitor)
            ),
            FieldDef("hurdle", v("hurdle"), CHOICE, "hurdle", _choices(Deal.Hurdle)),
            FieldDef("next_step", v("next_step"), CHOICE, "next_step", _choices(Deal.NextStep)),
            FieldDef("budget_status", v("budget_status"), CHOICE, "budget_status", captured),
            FieldDef(
                "authority_status", v("authority_status"), CHOICE, "authority_status", captured
            ),
            FieldDef("need_status", v("need_status"), CHOICE, "need_status", captured),
            FieldDef("timing_status", v("timing_status"), CHOICE, "timing_status", captured),
            *_company_refs("company.", company_label),
            *common,
        ]
    raise KeyError(object_type)


def _fixed(values: list) -> Callable[[], list[tuple[Any, Any]]]:
    choices = [(c, c) for c in values]
    return lambda: choices


def _custom_fields(object_type: str) -> list[FieldDef]:
    kinds = CustomFieldDefinition.FieldType
    result = []
    for d in CustomFieldDefinition.objects.filter(object_type=object_type):
        key = CUSTOM_PREFIX + d.key
        label = d.display_label()
        match d.field_type:
            case kinds.NUMBER:
                result.append(FieldDef(key, label, NUMBER, custom=d))
            case kinds.MONEY:
                result.append(FieldDef(key, label, MONEY, custom=d, currency=d.currency or "JPY"))
            case kinds.DATE:
                result.append(FieldDef(key, label, DATE, custom=d))
            case kinds.SELECT:
                result.append(FieldDef(key, label, CHOICE, choices=_fixed(d.choices), custom=d))
            case kinds.MULTI_SELECT:
                result.append(
                    FieldDef(key, label, TAGS, choices=_fixed(d.choices), custom=d, groupable=False)
                )
            case kinds.CHECKBOX:
                result.append(FieldDef(key, label, BOOL, custom=d))
            case kinds.USER:
                result.append(FieldDef(key, label, FK, model=_user_model(), custom=d))
            case kinds.LONG_TEXT:
                result.append(FieldDef(key, label, TEXT, custom=d, groupable=False))
            case _:
                result.append(FieldDef(key, label, TEXT, custom=d))
    return result


def _models():
    from kizuna.activities.models import Activity
    from kizuna.customers.models import Company, Contact, Lead
    from kizuna.sales.models import Deal

    return {
        "company": Company,
        "contact": Contact,
        "lead": Lead,
        "activity": Activity,
        "deal": Deal,
    }


def _model_getter(name: str) -> Callable[[], type[models.Model]]:
    return lambda: _models()[name]


MODELS: dict[str, Callable[[], type[models.Model]]] = {
    name: _model_getter(name) for name in ("company", "contact", "lead", "deal", "activity")
}


def object_choices() -> list[tuple[str, Any]]:
    return [(name, factory()._meta.verbose_name_plural) for name, factory in MODELS.items()]


def catalogue(object_type: str) -> dict[str, FieldDef]:
    """Every field a report on ``object_type`` may filter, group or measure by."""
    return {f.key: f for f in [*_builtin_fields(object_type), *_custom_fields(object_type)]}


# Periods -------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    m = day.month - 1 + months
    return datetime.date(day.year + m // 12, m % 12 + 1, 1)


def fiscal_start_month() -> int:
    return OrgSettings.get().fiscal_year_start_month


def _fiscal_year_start(day: datetime.date, start_month: int) -> datetime.date:
    month = day.replace(day=1)
    return add_months(month, -((day.month - start_month) % 12))


def period_range(
    key: str, today: datetime.date | None = None, start_month: int | None = None
) -> tuple[datetime.date, datetime.date]:
    """``[start, end)`` of a relative period, per the org's fiscal year."""
    today = today or timezone.localdate()
    start_month = start_month or fiscal_start_month()
    month = today.replace(day=1)
    fy = _fiscal_year_start(today, start_month)
    quarter = add_months(fy, ((today.month - start_month) % 12) // 3 * 3)
    one = datetime.timedelta(days=1)
    return {
        "this_month": (month, add_months(month, 1)),
        "last_month": (add_months(month, -1), month),
        "this_quarter": (quarter, add_months(quarter, 3)),
        "last_quarter": (add_months(quarter, -3), quarter),
        "next_quarter": (add_months(quarter, 3), add_months(quarter, 6)),
        "this_fiscal_year": (fy, add_months(fy, 12)),
        "last_fiscal_year": (add_months(fy, -12), fy),
        "last_30_days": (today - datetime.timedelta(days=29), today + one),
        "last_90_days": (today - datetime.timedelta(days=89), today + one),
        "last_12_months": (add_months(month, -11), add_months(month, 1)),
    }[key]


def bucket_start(day: datetime.date, unit: str, start_month: int) -> datetime.date:
    if unit == "month":
        return day.replace(day=1)
    fy = _fiscal_year_start(day, start_month)
    if unit == "fiscal_year":
        return fy
    return add_months(fy, ((day.month - start_month) % 12) // 3 * 3)


def bucket_step(unit: str) -> int:
    return {"month": 1, "quarter": 3, "fiscal_year": 12}[unit]


def bucket_label(start: datetime.date, unit: str, start_month: int) -> str:
    if unit == "month":
        return f"{start:%Y-%m}"
    fy = _fiscal_year_start(start, start_month)
    if unit == "fiscal_year":
        return _("FY%(year)s") % {"year": fy.year}
    quarter = ((start.month - start_month) % 12) // 3 + 1
    return _("FY%(year)s Q%(quarter)s") % {"year": fy.year, "quarter": quarter}


# Cleaning ------------------------------------------------------------------------


def _error(errors: dict, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _clean_value(fd: FieldDef, op: str, value: Any) -> tuple[Any, str | None]:
    """The value of a filter, normalised, or an error message."""
    if op in ("empty", "not_empty"):
        return None, None
    if op == "period":
        if value not in PERIODS:
            return None, _("Choose a period.")
        return value, None
    if op == "between":
        if not isinstance(value, dict) and not isinstance(value, list | tuple):
            return None, _("Enter two dates as YYYY-MM-DD.")
        start, end = (
            (value.get("from"), value.get("to"))
            if isinstance(value, dict)
            else (list(value) + [None, None])[:2]
        )
        a, b = _date(start), _date(end)
        if a is None or b is None:
            return None, _("Enter two dates as YYYY-MM-DD.")
        if a > b:
            return None, _("The first date must not be after the second.")
        return {"from": a.isoformat(), "to": b.isoformat()}, None
    if fd.kind in (DATE, DATETIME):
        day = _date(value)
        if day is None:
            return None, _("Enter a date as YYYY-MM-DD.")
        return day.isoformat(), None
    if fd.kind in (NUMBER, MONEY):
        number = _number(value)
        if number is None:
            return None, _("Enter a number.")
        return format(number, "f"), None
    if fd.kind == BOOL:
        if isinstance(value, bool):
            return value, None
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True, None
        if str(value).lower() in ("false", "0", "no", "off"):
            return False, None
        return None, _("Enter true or false.")
    if op in ("in", "not_in"):
        values = value if isinstance(value, list) else [value]
        values = [v for v in values if v not in (None, "")]
        if not values:
            return None, _("Choose at least one value.")
        if fd.kind == FK:
            clean = []
            for v in values:
                if (fd.key == "owner" and v == ME) or (fd.key == "team" and v == MY_TEAM):
                    clean.append(v)
                    continue
                try:
                    clean.append(int(v))
                except (TypeError, ValueError):
                    return None, _("Choose a record from the list.")
            return clean, None
        if fd.kind == CHOICE or fd.kind == TAGS:
            return [str(v) for v in values], None
        return [str(v) for v in values], None
    if not isinstance(value, str | int | float | Decimal) or str(value).strip() == "":
        return None, _("Enter a value.")
    return str(value).strip(), None


def clean_spec(raw: Any) -> dict:
    """A valid, normalised spec, or a ValidationError keyed by the part at fault.

    Keys look like ``filters.0.value`` so that the API answers
    ``loc: ["body", "spec", "filters", "0", "value"]`` and a form shows the
    message next to the row.
    """
    if not isinstance(raw, dict):
        raise ValidationError({"spec": [_("Expected an object.")]})
    errors: dict[str, list[str]] = {}
    object_type = raw.get("object")
    if object_type not in MODELS:
        raise ValidationError(
            {"object": [_("Choose companies, contacts, leads, deals or activities.")]}
        )
    fields = catalogue(object_type)
    spec: dict[str, Any] = {"object": object_type, "filters": [], "group_by": [], "measures": []}

    def known(key: Any, where: str) -> FieldDef | None:
        fd = fields.get(key) if isinstance(key, str) else None
        if fd is None:
            _error(errors, where, _("There is no field “%(field)s”.") % {"field": key})
        return fd

    filters = raw.get("filters") or []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        _error(errors, "filters", _("At most %(n)d filters.") % {"n": MAX_FILTERS})
        filters = []
    for i, f in enumerate(filters):
        if not isinstance(f, dict):
            _error(errors, f"filters.{i}", _("Expected an object."))
            continue
        fd = known(f.get("field"), f"filters.{i}.field")
        if fd is None:
            continue
        op = f.get("op") or ("in" if fd.kind in (CHOICE, FK, TAGS) else "eq")
        if op == "eq" and fd.kind in (CHOICE, FK):
            op = "in"
        if op not in OPS[fd.kind]:
            _error(errors, f"filters.{i}.op", _("This condition does not fit this field."))
            continue
        value, message = _clean_value(fd, op, f.get("value"))
        if message:
            _error(errors, f"filters.{i}.value", message)
            continue
        spec["filters"].append({"field": fd.key, "op": op, "value": value})

    groups = raw.get("group_by") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        _error(errors, "group_by", _("Group by at most two fields."))
        groups = []
    for i, g in enumerate(groups):
        if isinstance(g, str):
            g = {"field": g}
        if not isinstance(g, dict):
            _error(errors, f"group_by.{i}", _("Expected an object."))
            continue
        fd = known(g.get("field"), f"group_by.{i}.field")
        if fd is None:
            continue
        if not fd.groupable:
            _error(errors, f"group_by.{i}.field", _("This field cannot be grouped by."))
            continue
        entry: dict[str, Any] = {"field": fd.key}
        if fd.kind in (DATE, DATETIME):
            period = g.get("period") or "month"
            if period not in DATE_GROUPS:
                _error(errors, f"group_by.{i}.period", _("Choose month, quarter or fiscal year."))
                continue
            entry["period"] = period
        spec["group_by"].append(entry)
    if len({g["field"] for g in spec["group_by"]}) < len(spec["group_by"]):
        _error(errors, "group_by", _("Group by two different fields."))

    measures = raw.get("measures") or [{"op": "count"}]
    if not isinstance(measures, list) or len(measures) > MAX_MEASURES:
        _error(errors, "measures", _("At most %(n)d measures.") % {"n": MAX_MEASURES})
        measures = []
    for i, m in enumerate(measures):
        if isinstance(m, str):
            m = {"op": m}
        if not isinstance(m, dict) or m.get("op") not in MEASURES:
            _error(errors, f"measures.{i}.op", _("Choose count, sum or average."))
            continue
        if m["op"] == "count":
            spec["measures"].append({"op": "count"})
            continue
        fd = known(m.get("field"), f"measures.{i}.field")
        if fd is None:
            continue
        if fd.kind not in (NUMBER, MONEY):
            _error(errors, f"measures.{i}.field", _("Sums and averages need a number field."))
            continue
        spec["measures"].append({"op": m["op"], "field": fd.key})

    chart = raw.get("chart") or "table"
    if chart not in CHARTS:
        _error(errors, "chart", _("Choose a chart type."))
    spec["chart"] = chart
    if chart != "table" and not spec["group_by"] and not errors:
        _error(errors, "chart", _("A chart needs at least one grouping."))
    if errors:
        raise ValidationError(errors)
    return spec


def referenced_fields(spec: dict) -> list[str]:
    keys = [f.get("field") for f in spec.get("filters") or []]
    keys += [g.get("field") for g in spec.get("group_by") or []]
    keys += [m.get("field") for m in spec.get("measures") or [] if m.get("field")]
    return [k for k in dict.fromkeys(keys) if k]


# Running -------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: str  # "group", "currency", "measure"
    measure: str = ""
    currency: str = ""  # a fixed currency (custom money fields)
    money: bool = False


@dataclass
class Row:
    keys: list[Any]
    labels: list[str]
    currency: str | None
    values: list[Decimal | int | None]


@dataclass
class Result:
    spec: dict
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    totals: list[Row] = field(default_factory=list)
    error: str = ""
    missing_field: str = ""
    truncated: bool = False
    queries: int = 0

    @property
    def group_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "group"]

    @property
    def measure_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "measure"]

    @property
    def has_currency(self) -> bool:
        return any(c.kind == "currency" for c in self.columns)


@dataclass
class _Plan:
    fd: FieldDef
    unit: str = ""
    buckets: list[datetime.date] = field(default_factory=list)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _bound(fd: FieldDef, day: datetime.date) -> Any:
    if fd.kind == DATETIME:
        return _local_midnight(day)
    if fd.custom is not None:
        return day.isoformat()  # custom dates are ISO strings: they compare as text
    return day


def _filter_q(
    fd: FieldDef, alias: str, op: str, value: Any, user, today, model, start_month: int
) -> Q:
    if fd.kind == TAGS:
        if fd.custom is not None:
            q = Q()
            for v in value:
                q |= Q(**{f"custom_field_data__{fd.custom.key}__icontains": f'"{v}"'})
            return ~q if op == "not_in" else q
        tagged = Q(pk__in=model._default_manager.filter(tags__name__in=value).values("pk"))
        return ~tagged if op == "not_in" else tagged
    if op == "empty":
        q = Q(**{f"{alias}__isnull": True})
        if fd.kind in (TEXT, CHOICE) or fd.custom is not None:
            q |= Q(**{alias: ""})
        return q
    if op == "not_empty":
        return ~_filter_q(fd, alias, "empty", None, user, today, model, start_month)
    if op == "period":
        start, end = period_range(value, today, start_month)
        return Q(**{f"{alias}__gte": _bound(fd, start), f"{alias}__lt": _bound(fd, end)})
    if op == "between":
        start = datetime.date.fromisoformat(value["from"])
        end = datetime.date.fromisoformat(value["to"]) + datetime.timedelta(days=1)
        return Q(**{f"{alias}__gte": _bound(fd, start), f"{alias}__lt": _bound(fd, end)})
    if fd.kind in (DATE, DATETIME):
        return Q(**{f"{alias}__{op}": _bound(fd, datetime.date.fromisoformat(value))})
    if fd.kind in (NUMBER, MONEY):
        number = Decimal(value)
        if op == "ne":
            return ~Q(**{alias: number})
        return Q(**{alias if op == "eq" else f"{alias}__{op}": number})
    if fd.kind == BOOL:
        if fd.custom is not None:
            path = f"custom_field_data__{fd.custom.key}"
            return Q(**{path: True}) if value else ~Q(**{path: True})
        return Q(**{alias: value})
    if op in ("in", "not_in"):
        values = list(value)
        if fd.kind == FK:
            values = [user.pk if v == ME else user.team_id if v == MY_TEAM else v for v in values]
        if fd.custom is not None and fd.kind != FK:
            values = [str(v) for v in values]
        # One value is an equality, which every index serves.
        q = Q(**{alias: values[0]}) if len(values) == 1 else Q(**{f"{alias}__in": values})
        return ~q & Q(**{f"{alias}__isnull": False}) if op == "not_in" else q
    if op == "contains":
        return Q(**{f"{alias}__icontains": value})
    if op == "ne":
        return ~Q(**{alias: value})
    return Q(**{alias: value})


def _date_bounds(
    qs, plan: _Plan, alias: str, spec: dict, fields: dict[str, FieldDef], today, queries: list
) -> tuple[datetime.date, datetime.date] | None:
    """The range the buckets must cover: the filters' when they bound it, else the data's."""
    start = end = None
    for f in spec["filters"]:
        if f["field"] != plan.fd.key:
            continue
        if f["op"] == "period":
            s, e = period_range(f["value"], today, fiscal_start_month())
        elif f["op"] == "between":
            s = datetime.date.fromisoformat(f["value"]["from"])
            e = datetime.date.fromisoformat(f["value"]["to"]) + datetime.timedelta(days=1)
        elif f["op"] == "gte":
            s, e = datetime.date.fromisoformat(f["value"]), None
        elif f["op"] == "lt":
            s, e = None, datetime.date.fromisoformat(f["value"])
        else:
            continue
        start = max(start, s) if start and s else (start or s)
        end = min(end, e) if end and e else (end or e)
    if start is None or end is None:
        # One MIN or MAX per query: SQLite reads a lone one from the end of an
        # index, but scans the whole range for the two together.
        lo = qs.aggregate(v=Min(plan.fd.expression()))["v"]
        queries.append("bounds")
        if lo is None:
            return None
        hi = qs.aggregate(v=Max(plan.fd.expression()))["v"]
        queries.append("bounds")
        lo, hi = _as_date(lo), max(_as_date(lo), _as_date(hi))  # a write in between
        start = start or lo
        end = end or hi + datetime.timedelta(days=1)
    return start, end


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _bucket_expression(
    plan: _Plan, alias: str, start: datetime.date, end: datetime.date, start_month: int
):
    first = bucket_start(start, plan.unit, start_month)
    step = bucket_step(plan.unit)
    buckets = [first]
    while buckets[-1] < end:
        buckets.append(add_months(buckets[-1], step))
        if len(buckets) > MAX_BUCKETS:
            raise ValidationError(
                _("Too many periods to group by; add a date filter or group by a longer period.")
            )
    plan.buckets = buckets[:-1]

    def tree(lo: int, hi: int):
        # A balanced CASE: log2(n) comparisons per row instead of n.
        if hi - lo == 1:
            return Value(lo)
        mid = (lo + hi) // 2
        return Case(
            When(**{f"{alias}__lt": _bound(plan.fd, buckets[mid])}, then=tree(lo, mid)),
            default=tree(mid, hi),
            output_field=models.IntegerField(),
        )

    return Case(
        When(**{f"{alias}__isnull": True}, then=Value(None)),
        When(**{f"{alias}__lt": _bound(plan.fd, first)}, then=Value(-1)),
        When(**{f"{alias}__gte": _bound(plan.fd, buckets[-1])}, then=Value(None)),
        default=tree(0, len(plan.buckets)),
        output_field=models.IntegerField(),
    )


def _related_lookup(fd: FieldDef, model, filter_paths: list[str], vendor: str):
    """On SQLite, a grouping by a field of a related record (``company.industry``)
    as a lookup of that record by primary key, when no filter joins it anyway.

    With a join, SQLite's planner tends to loop over the related table and
    fetch each one's rows (and their columns) from the table; the lookup keeps
    the reported rows outside, read from whichever index covers them. A lookup
    by primary key gives what the (outer) join gives. PostgreSQL hashes the
    join: it keeps it.
    """
    if vendor != "sqlite" or fd.custom is not None or fd.path.count("__") != 1:
        return None
    relation, name = fd.path.split("__")
    if any(p == relation or p.startswith(f"{relation}__") for p in filter_paths):
        return None
    field = model._meta.get_field(relation)
    if not (field.many_to_one or field.one_to_one) or not field.concrete:
        return None
    related = field.related_model._base_manager.filter(pk=OuterRef(field.attname))
    return Subquery(related.order_by().values(name)[:1])


def run(spec: dict, *, user, today: datetime.date | None = None) -> Result:
    """Run a cleaned spec as ``user``: one grouped query over what they may see."""
    result = Result(spec=spec)
    object_type = spec["object"]
    fields = catalogue(object_type)
    missing = [k for k in referenced_fields(spec) if k not in fields]
    if missing:
        result.missing_field = missing[0]
        result.error = _("This field was deleted: %(field)s") % {"field": missing[0]}
        return result
    model = MODELS[object_type]()
    today = today or timezone.localdate()
    start_month = fiscal_start_month()
    qs = access.visible(model._default_manager.all(), user).order_by()

    aliases: dict[str, str] = {}

    def alias_for(fd: FieldDef) -> str:
        if fd.key not in aliases:
            aliases[fd.key] = f"rf_{len(aliases)}"
            nonlocal qs
            if fd.kind != TAGS:
                qs = qs.alias(**{aliases[fd.key]: fd.expression()})
        return aliases[fd.key]

    for f in spec["filters"]:
        fd = fields[f["field"]]
        alias = alias_for(fd)  # before reading ``qs``: it adds the alias to it
        qs = qs.filter(_filter_q(fd, alias, f["op"], f["value"], user, today, model, start_month))

    # The date range of a grouping is read before the groupings add their joins.
    filtered = qs
    queries: list[str] = []
    plans = [_Plan(fd=fields[g["field"]], unit=g.get("period", "")) for g in spec["group_by"]]
    group_names = [f"g{i}" for i in range(len(plans))]
    filter_paths = [fields[f["field"]].path for f in spec["filters"]]
    # Date buckets lead the GROUP BY (it follows the order of the annotations):
    # read in date order from an index, they reach SQLite's sorter almost
    # sorted. The order of the rows is _shape's.
    for i in sorted(range(len(plans)), key=lambda i: not plans[i].unit):
        plan, name = plans[i], group_names[i]
        if plan.unit:
            alias = alias_for(plan.fd)
            bounds = _date_bounds(filtered, plan, alias, spec, fields, today, queries)
            if bounds is None:
                plan.buckets = []
                qs = qs.annotate(**{name: Value(None, output_field=models.IntegerField())})
            else:
                try:
                    expr = _bucket_expression(plan, alias, *bounds, start_month)
                except ValidationError as exc:
                    result.error = exc.messages[0]
                    return result
                qs = qs.annotate(**{name: expr})
            continue
        expr = _related_lookup(plan.fd, model, filter_paths, connections[qs.db].vendor)
        if expr is None:
            expr = F(alias_for(plan.fd))  # before reading ``qs``: it adds the alias to it
        qs = qs.annotate(**{name: expr})

    measure_fds = [fields[m["field"]] if m.get("field") else None for m in spec["measures"]]
    per_currency = next(
        (fd.currency_path for fd in measure_fds if fd and fd.kind == MONEY and fd.currency_path),
        "",
    )
    values_names = list(group_names)
    if per_currency:
        qs = qs.annotate(cur=F(per_currency))
        values_names.append("cur")
    aggregates: dict[str, Any] = {"n": Count("*")}
    for i, (m, mfd) in enumerate(zip(spec["measures"], measure_fds, strict=True)):
        if mfd is None:
            continue
        # Aggregates take the expression: Django cannot aggregate over an alias.
        aggregates[f"s{i}"] = Sum(mfd.expression())
        if m["op"] == "avg":
            aggregates[f"c{i}"] = Count(mfd.expression())
    if values_names:
        # No LIMIT: with one, PostgreSQL plans for the first rows (a nested loop
        # and a sort) instead of a hash aggregate over all of them, 5-10x slower.
        rows = list(qs.values(*values_names).annotate(**aggregates))
    else:
        rows = [qs.aggregate(**aggregates)]
    queries.append("aggregate")
    result.queries = len(queries)
    _shape(result, spec, plans, group_names, per_currency, measure_fds, rows, start_month)
    return result


def _shape(
    result: Result, spec, plans, group_names, per_currency, measure_fds, raw, start_month
) -> None:
    for i, plan in enumerate(plans):
        label = capfirst(str(plan.fd.label))
        if plan.unit:
            label = f"{label} ({DATE_GROUPS[plan.unit]})"
        result.columns.append(Column(key=f"g{i}", label=label, kind="group"))
    if per_currency:
        result.columns.append(Column(key="currency", label=_("Currency"), kind="currency"))
    for i, (m, fd) in enumerate(zip(spec["measures"], measure_fds, strict=True)):
        if fd is None:
            label = str(MEASURES["count"])
        else:
            label = capfirst(
                _("%(measure)s of %(field)s") % {"measure": MEASURES[m["op"]], "field": fd.label}
            )
        currency = fd.currency if fd is not None and fd.kind == MONEY else ""
        result.columns.append(
            Column(
                key=f"m{i}",
                label=label,
                kind="measure",
                measure=m["op"],
                currency=currency,
                money=fd is not None and fd.kind == MONEY,
            )
        )

    # Fold the database's groups into rows; a date bucket below the range (-1)
    # cannot happen once bounds come from the data, and is kept as "none".
    labels = [
        _group_labels(plan, [r.get(name) for r in raw], start_month)
        for plan, name in zip(plans, group_names, strict=True)
    ]
    rows: dict[tuple, dict] = {}
    for r in raw:
        keys = tuple(r.get(name) for name in group_names)
        cur = r.get("cur") if per_currency else None
        entry = rows.setdefault((*keys, cur), {"n": 0, "s": {}, "c": {}})
        entry["n"] += r["n"] or 0
        for i, m in enumerate(spec["measures"]):
            if m["op"] == "count":
                continue
            s = r.get(f"s{i}")
            if s is not None:
                entry["s"][i] = entry["s"].get(i, Decimal(0)) + Decimal(s)
            if m["op"] == "avg":
                entry["c"][i] = entry["c"].get(i, 0) + (r.get(f"c{i}") or 0)
            elif s is not None:
                entry["c"][i] = entry["c"].get(i, 0) + 1

    def order(key: tuple):
        return tuple(
            labels[i][1].get(k, (2, str(k))) if i < len(plans) else (0, str(k or ""))
            for i, k in enumerate(key)
        )

    items = sorted(rows.items(), key=lambda kv: order(kv[0]))
    if len(items) > MAX_ROWS:
        items = items[:MAX_ROWS]
        result.truncated = True
    totals: dict[Any, dict] = {}
    for key, entry in items:
        *group_keys, cur = key
        values = _measure_values(spec, entry)
        result.rows.append(
            Row(
                keys=list(group_keys),
                labels=[labels[i][0].get(k, str(k)) for i, k in enumerate(group_keys)],
                currency=cur,
                values=values,
            )
        )
        total = totals.setdefault(cur, {"n": 0, "s": {}, "c": {}})
        total["n"] += entry["n"]
        for i, s in entry["s"].items():
            total["s"][i] = total["s"].get(i, Decimal(0)) + s
        for i, c in entry["c"].items():
            total["c"][i] = total["c"].get(i, 0) + c
    for cur in sorted(totals, key=lambda c: str(c or "")):
        result.totals.append(
            Row(keys=[], labels=[], currency=cur, values=_measure_values(spec, totals[cur]))
        )


def _measure_values(spec: dict, entry: dict) -> list[Decimal | int | None]:
    values: list[Decimal | int | None] = []
    for i, m in enumerate(spec["measures"]):
        if m["op"] == "count":
            values.append(entry["n"])
        elif m["op"] == "sum":
            values.append(entry["s"].get(i))
        else:
            count = entry["c"].get(i, 0)
            # No values to average (all empty): n/a, not a division by zero.
            values.append(entry["s"][i] / count if count and i in entry["s"] else None)
    return values


NONE_LABEL = pgettext_lazy("report group", "(none)")


def _group_labels(plan: _Plan, keys: Iterable[Any], start_month: int):
    """``({key: label}, {key: sort key})`` for one grouping's keys."""
    fd = plan.fd
    keys = set(keys)
    names: dict[Any, str] = {}
    order: dict[Any, tuple] = {}
    none = str(NONE_LABEL)
    for k in keys:
        if k is None or k == "" or k == -1:
            names[k] = none
            order[k] = (1, "")
    if plan.unit:
        for i, start in enumerate(plan.buckets):
            names[i] = bucket_label(start, plan.unit, start_month)
            order[i] = (0, i)
        return names, order
    if fd.kind == CHOICE:
        choices = fd.choice_list()
        for i, (value, label) in enumerate(choices):
            names[value] = str(label)
            order[value] = (0, i)
    elif fd.kind == FK and fd.model is not None:
        ids = [k for k in keys if k not in (None, "")]
        for obj in fd.model._default_manager.filter(pk__in=ids):
            names[obj.pk] = getattr(obj, "label", None) or str(obj)
        positions = {pk: i for i, pk in enumerate(sorted(ids, key=lambda pk: names.get(pk, "")))}
        for pk in ids:
            order[pk] = (0, positions[pk])
    elif fd.kind == BOOL:
        names[True] = _("Yes")
        names[False] = _("No")
        order[True], order[False] = (0, 0), (0, 1)
    for k in keys:
        if k not in names:
            names[k] = str(k)
            order[k] = (0, k if isinstance(k, int | float | Decimal) else str(k))
    return names, order


# Display -------------------------------------------------------------------------


def format_value(value: Decimal | int | None, column: Column, currency: str | None) -> str:
    """A measure as the table shows it; nothing to compute is "n/a"."""
    if value is None:
        return _("n/a")
    if column.measure == "count":
        return f"{value:,}"
    money_currency = column.currency or (currency if column.money else "")
    if money_currency:
        from kizuna.sales.quotes.pricing import format_amount

        try:
            return format_amount(Decimal(value), money_currency)
        except ValidationError:
            return f"{Decimal(value):,.2f} {money_currency}"
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.2f}"


def plain_value(value: Decimal | int | None, column: Column, currency: str | None) -> Any:
    """A measure for a spreadsheet: a number (rounded to the currency's unit) or empty."""
    if value is None:
        return None
    if column.measure == "count":
        return int(value)
    money_currency = column.currency or (currency if column.money else "")
    places = 0 if money_currency in ("JPY", "KRW") else 2
    return Decimal(value).quantize(Decimal(1).scaleb(-places))
