"""CSV export of list views; every export goes to the audit log."""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone

from kizuna.core import audit
from kizuna.core.models import AuditEntry
from kizuna.core.tables import Column, display

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_response(
    *, actor, object_type: str, columns: list[Column], rows: Iterable, filters: dict, bom: bool
) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c.label) for c in columns])
    count = 0
    for obj in rows:
        writer.writerow([neutralise(display(c.value(obj))) for c in columns])
        count += 1
    audit.record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        object_type=object_type,
        object_repr=f"{object_type} × {count}",
        changes={"filters": filters, "rows": count},
    )
    data = ("\ufeff" if bom else "") + buffer.getvalue()
    response = HttpResponse(data.encode("utf-8"), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{object_type}-{stamp}.csv"'
    return response
