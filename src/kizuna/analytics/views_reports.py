"""The report builder's pages: the list, the builder with its live preview, a report,
its exports and its weekly e-mail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.analytics import charts, reports
from kizuna.analytics import selectors_reports as selectors
from kizuna.analytics import services_reports as services
from kizuna.analytics.forms_reports import Builder, builder_from_data, builder_from_spec
from kizuna.analytics.models_reports import ReportSchedule, SavedReport
from kizuna.core.records import ConflictError
from kizuna.core.ui import paginate


def chart_html(result: reports.Result, chart: str, title: str) -> SafeString | None:
    """The result drawn with the dashboards' charts; money in one currency per chart."""
    if chart == "table" or result.error or not result.rows or not result.group_columns:
        return None
    measure = result.measure_columns[0]
    rows = result.rows
    currency = None
    if result.has_currency and measure.money:
        # The currency with the most rows; the others are in the table below.
        counts: dict[str | None, int] = {}
        for r in rows:
            counts[r.currency] = counts.get(r.currency, 0) + 1
        currency = max(counts, key=lambda c: counts[c])
        rows = [r for r in rows if r.currency == currency]
        title = f"{title} ({currency})"
    elif measure.money:
        currency = measure.currency or None
    groups = len(result.group_columns)
    first, second = 0, 1
    if chart == "line" and groups == 2:
        # Lines run over time: put a date grouping on the axis.
        periods = [g.get("period") for g in result.spec["group_by"]]
        if periods[1] and not periods[0]:
            first, second = 1, 0
    labels: list[str] = []
    for r in rows:
        if r.labels[first] not in labels:
            labels.append(r.labels[first])

    def value(r: reports.Row):
        i = result.measure_columns.index(measure)
        return r.values[i]

    if groups == 1 or chart == "funnel":
        totals: dict[str, float] = {}
        for r in rows:
            v = value(r)
            totals[r.labels[first]] = totals.get(r.labels[first], 0) + float(v or 0)
        series = [charts.Series(name=measure.label, values=[totals[label] for label in labels])]
    else:
        names: list[str] = []
        for r in rows:
            if r.labels[second] not in names:
                names.append(r.labels[second])
        cells = {(r.labels[first], r.labels[second]): value(r) for r in rows}
        series = [
            charts.Series(
                name=name,
                values=[
                    cells.get((label, name), 0 if chart == "stacked_bar" else None)
                    for label in labels
                ],
            )
            for name in names
        ]
    if chart == "funnel":
        return charts.funnel(labels, series[0].values, title=title, currency=currency)
    if chart == "line":
        return charts.line_chart(labels, series, title=title, currency=currency)
    if chart == "stacked_bar":
        return charts.stacked_bars(labels, series, title=title, currency=currency)
    is_period = bool(result.spec["group_by"][first].get("period"))
    return charts.bar_chart(
        labels,
        series,
        title=title,
        currency=currency,
        orientation="vertical" if is_period else "horizontal",
    )


def result_context(result: reports.Result, chart: str, title: str) -> dict:
    header, rows = services.table(result, plain=False)
    totals = []
    measures = result.measure_columns
    for t in result.totals:
        totals.append(
            (
                t.currency,
                [
                    reports.format_value(v, c, t.currency)
                    for v, c in zip(t.values, measures, strict=True)
                ],
            )
        )
    return {
        "result": result,
        "header": header,
        "table_rows": rows,
        "totals": totals,
        "measure_start": len(result.group_columns) + (1 if result.has_currency else 0),
        "chart": chart_html(result, chart, title),
    }


@login_required
def report_list(request):
    page = paginate(request, selectors.report_list(user=request.user, q=request.GET.get("q", "")))
    objects = dict(reports.object_choices())
    rows = [
        (
            r,
            objects.get(r.object_type, r.object_type),
            getattr(r, "schedule", None) if hasattr(r, "schedule") else None,
        )
        for r in page.object_list
    ]
    return render(request, "analytics/report_list.html", {"page": page, "rows": rows})


def _builder_page(request, builder: Builder, report: SavedReport | None, status: int = 200):
    preview = None
    spec = builder.spec()
    if not builder.has_errors:
        try:
            clean = reports.clean_spec(spec)
        except ValidationError as exc:
            builder.add_errors(exc.message_dict)
        else:
            result = reports.run(clean, user=request.user)
            preview = result_context(result, clean["chart"], builder.name or _("Preview"))
    context = {
        "builder": builder,
        "report": report,
        "preview": preview,
        "objects": reports.object_choices(),
        "charts": list(reports.CHARTS.items()),
        "periods": list(reports.PERIODS.items()),
        "date_groups": list(reports.DATE_GROUPS.items()),
        "measure_ops": list(reports.MEASURES.items()),
        "action": reverse("analytics:report_edit", args=[report.pk])
        if report
        else reverse("analytics:report_create"),
    }
    template = "analytics/report_builder.html"
    if request.htmx and request.POST.get("preview"):
        template = "analytics/_report_builder_form.html"
    return render(request, template, context, status=status)


def _save(request, builder: Builder, report: SavedReport | None):
    spec = builder.spec()
    try:
        if report is None:
            report = services.report_create(
                actor=request.user,
                name=builder.name,
                spec=spec,
                shared=builder.shared,
                pinned=builder.pinned,
            )
        else:
            report = services.report_update(
                actor=request.user,
                report=report,
                version=request.POST.get("version") or None,
                name=builder.name,
                spec=spec,
                shared=builder.shared,
                pinned=builder.pinned,
            )
    except ValidationError as exc:
        builder.add_errors(exc.message_dict)
        return _builder_page(request, builder, report, status=422)
    except ConflictError:
        builder.errors.setdefault("__all__", []).append(
            _("Someone else changed this report; reload the page and make your change again.")
        )
        return _builder_page(request, builder, report, status=409)
    messages.success(request, _("Report saved."))
    return redirect("analytics:report_detail", pk=report.pk)


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    if request.method == "POST":
        builder = builder_from_data(request.POST, request.user)
        if request.POST.get("save"):
            return _save(request, builder, None)
        return _builder_page(request, builder, None)
    object_type = request.GET.get("object", "deal")
    if object_type not in reports.MODELS:
        object_type = "deal"
    builder = builder_from_spec({"object": object_type}, request.user)
    return _builder_page(request, builder, None)


def _editable(request, pk: int) -> SavedReport:
    report = selectors.report_detail(user=request.user, pk=pk)  # 404 when not visible
    if not selectors.can_edit_report(request.user, report):
        raise PermissionDenied(_("Only the report's owner may change it."))
    return report


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, pk):
    report = _editable(request, pk)
    if request.method == "POST":
        builder = builder_from_data(request.POST, request.user)
        if request.POST.get("save"):
            return _save(request, builder, report)
        return _builder_page(request, builder, report)
    builder = builder_from_spec(
        report.spec, request.user, name=report.name, shared=report.shared, pinned=report.pinned
    )
    return _builder_page(request, builder, report)


@login_required
def report_detail(request, pk):
    report = selectors.report_detail(user=request.user, pk=pk)
    result = selectors.run_report(user=request.user, report=report)
    schedule = ReportSchedule.objects.filter(report=report).first()
    context = {
        "report": report,
        "can_edit": selectors.can_edit_report(request.user, report),
        "schedule": schedule,
        "weekdays": ReportSchedule.Weekday.choices,
        "hours": range(24),
        "recipient_choices": ReportSchedule.Recipients.choices,
        **result_context(result, report.chart, report.name),
    }
    return render(request, "analytics/report_detail.html", context)


@login_required
def report_export(request, pk):
    report = selectors.report_detail(user=request.user, pk=pk)
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        fmt = "csv"
    result = selectors.run_report(user=request.user, report=report)
    try:
        data = services.report_export(actor=request.user, result=result, fmt=fmt, report=report)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("analytics:report_detail", pk=report.pk)
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(data, content_type=types[fmt])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="report-{report.pk}-{stamp}.{fmt}"'
    return response


@login_required
@require_POST
def report_schedule(request, pk):
    report = _editable(request, pk)
    if request.POST.get("remove"):
        services.schedule_delete(actor=request.user, report=report)
        messages.success(request, _("The weekly e-mail was stopped."))
        return redirect("analytics:report_detail", pk=report.pk)
    try:
        services.schedule_set(
            actor=request.user,
            report=report,
            weekday=int(request.POST.get("weekday", "")),
            hour=int(request.POST.get("hour", "")),
            recipients=request.POST.get("recipients", ""),
            is_active=True,
        )
    except (ValueError, ValidationError) as exc:
        problems = exc.messages if isinstance(exc, ValidationError) else [_("Choose a weekday.")]
        for message in problems:
            messages.error(request, message)
    else:
        messages.success(request, _("The report will be sent every week."))
    return redirect("analytics:report_detail", pk=report.pk)


@login_required
@require_POST
def report_delete(request, pk):
    report = _editable(request, pk)
    services.report_delete(actor=request.user, report=report)
    messages.success(request, _("Report deleted."))
    return redirect("analytics:report_list")
