from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.analytics import dashboards, targets
from kizuna.analytics.forms import TargetForm
from kizuna.analytics.models import Target
from kizuna.analytics.periods import FiscalPeriod, last_periods, parse_period, period_for
from kizuna.analytics.selectors_reports import pinned_reports
from kizuna.analytics.views_reports import result_context
from kizuna.core import ui
from kizuna.sales import selectors as sales

CURRENCIES = ("JPY", "KRW", "USD")


def _common(request, default_kind: str = "quarter"):
    period = parse_period(request.GET.get("period")) or period_for(default_kind)
    team = dashboards.chosen_team(request.user, request.GET.get("team"))
    currency = request.GET.get("currency", "JPY")
    if currency not in CURRENCIES:
        currency = "JPY"
    current = period_for("quarter")
    choices: list[FiscalPeriod] = [*last_periods("quarter", 5), current.next()]
    choices += [period_for("year"), period_for("year").previous(), period_for("month")]
    if period not in choices:
        choices.append(period)
    return {
        "period": period,
        "team": team,
        "currency": currency,
        "period_choices": choices,
        "teams": dashboards.team_choices(request.user),
        "currencies": CURRENCIES,
    }


@login_required
def executive(request):
    ctx = _common(request)
    ctx.update(
        dashboards.executive(
            user=request.user, period=ctx["period"], team=ctx["team"], currency=ctx["currency"]
        )
    )
    return render(request, "analytics/executive.html", {**ctx, "board": "executive"})


@login_required
def manager(request):
    ctx = _common(request)
    pipeline = None
    if (raw := request.GET.get("pipeline", "")).isdigit():
        pipeline = sales.pipelines().filter(pk=int(raw)).first()
    ctx.update(
        dashboards.manager(
            user=request.user,
            period=ctx["period"],
            team=ctx["team"],
            pipeline=pipeline,
            currency=ctx["currency"],
        )
    )
    ctx["week_label"] = dashboards.week_label(ctx["week"])
    return render(request, "analytics/manager.html", {**ctx, "board": "manager"})


@login_required
def me(request):
    ctx = dashboards.mine(user=request.user, currency=request.GET.get("currency", "JPY"))
    ctx["week_label"] = dashboards.week_label(ctx["week"])
    ctx["pinned"] = [
        (report, result_context(result, report.chart, report.name))
        for report, result in pinned_reports(request.user)
    ]
    return render(request, "analytics/me.html", {**ctx, "board": "me"})


# /dashboard/ is the rep's own dashboard.
dashboard = me


@login_required
def drill(request):
    params = {k: v for k, v in request.GET.items() if k != "page"}
    found = dashboards.drill(user=request.user, kpi=request.GET.get("kpi") or "won", params=params)
    if found is None:
        raise Http404
    kind, queryset, title = found
    related = {
        "deal": ("owner", "company", "stage"),
        "lead": ("owner",),
        "activity": ("owner", "company", "deal"),
        "quote": ("owner", "deal"),
        "company": ("owner",),
    }[kind]
    page = ui.paginate(request, queryset.select_related(*related).order_by("-id"))
    query = request.GET.copy()
    query.pop("page", None)
    period = dashboards.drill_period(request.GET.get("period"))
    return render(
        request,
        "analytics/drill.html",
        {
            "title": title,
            "kind": kind,
            "page": page,
            "query": query.urlencode(),
            "period_label": getattr(period, "label", "") or dashboards.week_label(period),
        },
    )


@login_required
def target_list(request):
    if not targets.is_manager(request.user):
        raise PermissionDenied(_("Only managers and administrators set targets."))
    form = TargetForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            targets.target_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            ui_errors = getattr(exc, "message_dict", {"__all__": exc.messages})
            for field, errors in ui_errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Target saved."))
            return redirect("analytics:target_list")
    rows = targets.target_list(user=request.user)[:200]
    return render(request, "analytics/targets.html", {"form": form, "targets": rows})


@login_required
@require_POST
def target_delete(request, pk: int):
    if not targets.is_manager(request.user):
        raise PermissionDenied(_("Only managers and administrators set targets."))
    target = get_object_or_404(targets.target_list(user=request.user), pk=pk)
    targets.target_delete(actor=request.user, target=target)
    messages.success(request, _("Target deleted."))
    return redirect(reverse("analytics:target_list"))


__all__ = ["Target"]
