import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.activities.models import Activity
from kizuna.activities.selectors import record_timeline
from kizuna.core import access, ui
from kizuna.core.models import Share
from kizuna.core.queries import first_rows
from kizuna.core.records import ConflictError
from kizuna.core.tables import Column, custom_field_columns
from kizuna.customers.views import _custom_values
from kizuna.sales import criteria, selectors, services
from kizuna.sales.forms import (
    BoardFilterForm,
    DealContactForm,
    DealFilterForm,
    DealForm,
    MoveForm,
)
from kizuna.sales.models import Deal, Pipeline, Stage
from kizuna.sales.quotes import pricing


def deal_columns() -> list[Column]:
    def url(d):
        return reverse("sales:deal_detail", args=[d.pk])

    return [
        Column("name", _("Deal"), lambda d: d.name, url, "name"),
        Column(
            "company",
            _("Company"),
            lambda d: d.company,
            lambda d: reverse("customers:company_detail", args=[d.company_id]),
        ),
        Column("stage", _("Stage"), lambda d: d.stage.label),
        Column(
            "amount",
            _("Amount"),
            lambda d: pricing.format_amount(d.amount, d.currency),
            sort="-amount",
        ),
        Column(
            "probability", _("Probability"), lambda d: f"{d.effective_probability}%", optional=True
        ),
        Column(
            "close",
            _("Expected close"),
            lambda d: d.expected_close_date,
            sort="close",
            optional=True,
        ),
        Column("status", _("Status"), lambda d: d.get_status_display(), optional=True),
        Column("owner", _("Owner"), lambda d: d.owner),
        Column("team", _("Team"), lambda d: d.team, optional=True, listed=False),
        Column(
            "next_action",
            _("Next action"),
            lambda d: (
                f"{d.next_action} ({d.next_action_due:%Y-%m-%d})"
                if d.next_action_due
                else d.next_action
            ),
            optional=True,
        ),
        Column("pipeline", _("Pipeline"), lambda d: d.pipeline.label, optional=True, listed=False),
        *custom_field_columns("deal"),
    ]


@login_required
def deal_list(request):
    form = DealFilterForm(request.GET)
    return ui.list_page(
        request,
        title=_("Deals"),
        object_type="deal",
        filter_form=form,
        queryset=selectors.deal_list(user=request.user, filters=form.filters()),
        columns=deal_columns(),
        create_url=reverse("sales:deal_create"),
        template="sales/deal_list.html",
        extra={
            "hygiene": selectors.hygiene_counts(user=request.user),
            "stages": Stage.objects.filter(pipeline__is_active=True).select_related("pipeline"),
        },
    )


@login_required
@require_POST
def deal_bulk_move(request):
    ids = [int(i) for i in request.POST.getlist("deal") if i.isdigit()]
    stage = Stage.objects.filter(pk=request.POST.get("stage") or 0).first()
    back = request.POST.get("next") or reverse("sales:deal_list")
    if stage is None or not ids:
        messages.error(request, _("Choose deals and a stage."))
        return redirect(back)
    deals = list(access.visible(Deal.objects.filter(pk__in=ids), request.user))
    try:
        moved = services.deal_bulk_move(actor=request.user, deals=deals, stage=stage)
    except ValidationError as exc:
        messages.error(request, _("Nothing was moved.") + " " + " / ".join(exc.messages))
    else:
        messages.success(
            request, _("Moved %(n)d deals to %(stage)s.") % {"n": len(moved), "stage": stage}
        )
    return redirect(back)


# Board -----------------------------------------------------------------------


def _pipeline(request) -> Pipeline:
    pipelines = selectors.pipelines()
    pk = request.GET.get("pipeline")
    pipeline = pipelines.filter(pk=pk).first() if pk and pk.isdigit() else None
    pipeline = pipeline or pipelines.first()
    if pipeline is None:
        raise PermissionDenied(_("There is no active pipeline. An administrator can add one."))
    return pipeline


@login_required
def board(request):
    pipeline = _pipeline(request)
    form = BoardFilterForm(request.GET)
    filters = form.filters()
    columns = selectors.board(user=request.user, pipeline=pipeline, filters=filters)
    query = request.GET.copy()
    query.pop("pipeline", None)
    return render(
        request,
        "sales/board.html",
        {
            "pipeline": pipeline,
            "pipelines": selectors.pipelines(),
            "columns": columns,
            "filter_form": form,
            "query": query.urlencode(),
            "hygiene": selectors.hygiene_counts(user=request.user, pipeline=pipeline),
            "loss_reasons": selectors.loss_reasons(),
            "deals_url": reverse("sales:deal_list"),
        },
    )


@login_required
def board_column(request, stage_pk):
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_pk)
    form = BoardFilterForm(request.GET)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    deals = selectors.column_page(
        user=request.user,
        pipeline=stage.pipeline,
        stage=stage,
        filters=form.filters(),
        offset=offset,
    )
    query = request.GET.copy()
    query["offset"] = str(offset + len(deals))
    return render(
        request,
        "sales/_cards.html",
        {
            "deals": deals,
            "stage": stage,
            "deals_url": reverse("sales:deal_list"),
            "more_url": reverse("sales:board_column", args=[stage.pk]) + "?" + query.urlencode()
            if len(deals) == selectors.BOARD_PAGE
            else "",
        },
    )


def _move_error_payload(exc: ValidationError) -> dict:
    if isinstance(exc, services.ExitCriteriaError):
        return {
            "error": exc.messages[0],
            "missing": [{"key": m.key, "label": m.label, "kind": m.kind} for m in exc.missing],
        }
    return {"error": " ".join(exc.messages), "missing": []}


@login_required
@require_POST
def deal_move(request, pk):
    """Move from the board (JSON for the drag and drop script) or from the deal page."""
    deal = selectors.deal_detail(user=request.user, pk=pk)
    form = MoveForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        error = _("Choose a stage.")
        if wants_json:
            return JsonResponse({"error": error, "missing": []}, status=422)
        messages.error(request, error)
        return redirect("sales:deal_detail", pk=pk)
    data = form.cleaned_data
    try:
        deal = services.deal_move(
            actor=request.user,
            deal=deal,
            stage=data["stage"],
            version=data.get("version"),
            loss_reason=data.get("loss_reason"),
            loss_note=data.get("loss_note"),
        )
    except ValidationError as exc:
        payload = _move_error_payload(exc)
        if wants_json:
            return JsonResponse(payload, status=422)
        messages.error(request, payload["error"])
        return redirect("sales:deal_detail", pk=pk)
    except ConflictError:
        error = _("Someone else changed this deal. Reload to see the change.")
        if wants_json:
            return JsonResponse({"error": error, "missing": []}, status=409)
        messages.error(request, error)
        return redirect("sales:deal_detail", pk=pk)
    except PermissionDenied as exc:
        if wants_json:
            return JsonResponse({"error": str(exc), "missing": []}, status=403)
        raise
    if wants_json:
        return JsonResponse(
            {
                "id": deal.pk,
                "stage": deal.stage_id,
                "version": deal.version,
                "message": _("Moved to %(stage)s.") % {"stage": deal.stage.label},
            }
        )
    messages.success(request, _("Moved to %(stage)s.") % {"stage": deal.stage.label})
    return redirect("sales:deal_detail", pk=pk)


# Deal page -------------------------------------------------------------------


@login_required
def deal_detail(request, pk):
    deal = selectors.deal_detail(user=request.user, pk=pk)
    timeline = ui.paginate(
        request,
        record_timeline(user=request.user, record=deal, kind=request.GET.get("kind")),
        per_page=25,
    )
    context = {
        "object": deal,
        "can_edit": access.can_edit(request.user, deal),
        "timeline": timeline,
        "timeline_kind": request.GET.get("kind", ""),
        "timeline_url": request.path,
        "activity_kinds": Activity.Kind.choices,
        "today": timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "timeline":
        return render(request, "activities/_timeline.html", context)
    stages = selectors.pipeline_stages(deal.pipeline)
    current_missing = criteria.missing_items(deal, [deal.stage]) if deal.stage.is_open else []
    context.update(
        stages=stages,
        missing=current_missing,
        checklist=[
            (
                item,
                item["key"] in deal.checklist_done.get(str(deal.stage_id), []),
                criteria.item_label(item),
            )
            for item in deal.stage.checklist
        ],
        contacts=deal.deal_contacts.select_related("contact"),
        contact_form=DealContactForm(),
        history=selectors.stage_history(deal=deal),
        time_in_stages=[
            (stage, round(seconds / 86400, 1))
            for stage, seconds in selectors.time_in_stages(deal=deal)
        ],
        badges=selectors.card_badges(deal),
        custom_values=_custom_values(deal),
        tags=sorted(t.name for t in deal.tags.all()),
        shares=Share.objects.filter(object_type="deal", object_id=deal.pk).select_related(
            "user", "team"
        ),
        loss_reasons=selectors.loss_reasons(),
        amount=pricing.format_amount(deal.amount, deal.currency),
        weighted=pricing.format_amount(deal.weighted_amount, deal.currency),
        overlapping=selectors.overlapping_for(
            user=request.user, company=deal.company, team_id=deal.team_id, exclude_pk=deal.pk
        )
        if deal.status == Deal.Status.OPEN
        else [],
    )
    return render(request, "sales/deal_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request):
    pipeline = None
    pk = request.POST.get("pipeline") or request.GET.get("pipeline")
    if pk and str(pk).isdigit():
        pipeline = selectors.pipelines().filter(pk=pk).first()
    pipeline = pipeline or selectors.pipelines().first()
    initial = {
        k: v for k, v in request.GET.items() if k in ("company", "source_lead", "name", "amount")
    }
    initial.update(owner=request.user.pk, team=request.user.team_id, currency="JPY")
    data = request.POST if request.method == "POST" else None
    form = DealForm(data, initial=initial, pipeline=pipeline)
    overlapping = []
    if request.method == "POST" and form.is_valid():
        company = form.cleaned_data["company"]
        team = form.cleaned_data.get("team") or request.user.team
        overlapping = selectors.overlapping_for(
            user=request.user, company=company, team_id=team.pk if team else None
        )
        if overlapping and not form.cleaned_data.get("confirm_overlap"):
            form.data = form.data.copy()
            form.data["confirm_overlap"] = "on"
            return render(
                request,
                "sales/deal_form.html",
                {
                    "form": form,
                    "title": _("New deal"),
                    "back_url": reverse("sales:deal_list"),
                    "overlapping": overlapping,
                },
                status=409,
            )

    def save(kwargs):
        kwargs.pop("confirm_overlap", None)
        return services.deal_create(actor=request.user, **kwargs)

    return ui.record_form_page(
        request,
        form=form,
        save=save,
        success_url=lambda d: reverse("sales:deal_detail", args=[d.pk]),
        template="sales/deal_form.html",
        context={"title": _("New deal"), "back_url": reverse("sales:deal_list")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request, pk):
    deal = selectors.deal_detail(user=request.user, pk=pk)
    ui.require_edit(request, deal)
    data = request.POST if request.method == "POST" else None
    to = request.GET.get("to", "")
    toward = Stage.objects.filter(pk=to, pipeline=deal.pipeline).first() if to.isdigit() else None
    form = DealForm(data, instance=deal, toward=toward)
    missing = []
    if deal.stage.is_open:
        passing = [deal.stage]
        if toward is not None:
            passing = services.passed_stages(deal, toward)
        missing = criteria.missing_items(deal, passing)
    return ui.record_form_page(
        request,
        form=form,
        save=lambda kwargs: services.deal_update(actor=request.user, deal=deal, **kwargs),
        success_url=lambda d: reverse("sales:deal_detail", args=[d.pk]),
        template="sales/deal_form.html",
        context={
            "title": _("Edit %(name)s") % {"name": deal},
            "back_url": reverse("sales:deal_detail", args=[pk]),
            "object": deal,
            "missing": missing,
        },
    )


@login_required
@require_POST
def deal_delete(request, pk):
    deal = selectors.deal_detail(user=request.user, pk=pk)
    ui.require_edit(request, deal)
    services.deal_delete(actor=request.user, deal=deal)
    messages.success(request, _("Deleted %(name)s.") % {"name": deal})
    return redirect("sales:deal_list")


@login_required
def deal_history(request, pk):
    deal = selectors.deal_detail(user=request.user, pk=pk)
    return ui.history_page(request, deal, back_url=reverse("sales:deal_detail", args=[pk]))


@login_required
@require_POST
def deal_checklist(request, pk):
    deal = selectors.deal_detail(user=request.user, pk=pk)
    ui.require_edit(request, deal)
    try:
        services.deal_set_checklist(
            actor=request.user,
            deal=deal,
            stage=deal.stage,
            key=request.POST.get("key", ""),
            done=request.POST.get("done") == "1",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:deal_detail", pk=pk)


@login_required
@require_POST
def deal_contacts(request, pk):
    """Add a contact in a role, or remove one (``remove=<contact id>``)."""
    deal = selectors.deal_detail(user=request.user, pk=pk)
    ui.require_edit(request, deal)
    current = [(dc.contact, dc.role) for dc in deal.deal_contacts.select_related("contact")]
    remove = request.POST.get("remove")
    if remove:
        current = [(c, r) for c, r in current if str(c.pk) != remove]
    else:
        form = DealContactForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a contact and a role."))
            return redirect("sales:deal_detail", pk=pk)
        contact = form.cleaned_data["contact"]
        current = [(c, r) for c, r in current if c.pk != contact.pk]
        current.append((contact, form.cleaned_data["role"]))
    try:
        services.deal_update(actor=request.user, deal=deal, contacts=current)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:deal_detail", pk=pk)


@login_required
def deal_pick(request):
    q = request.GET.get("q", "").strip()
    results = first_rows(selectors.deal_list(user=request.user, filters={"q": q}), 15) if q else []
    return render(request, "core/_pick_results.html", {"results": results})


# Forecast -------------------------------------------------------------------


@login_required
def forecast(request):
    periods = selectors.periods()
    key = request.GET.get("period", "quarter")
    period = periods.get(key) or periods["quarter"]
    group_by = "team" if request.GET.get("by") == "team" else "owner"
    currency = request.GET.get("currency", "JPY")
    if currency not in services.CURRENCIES:
        currency = "JPY"
    rows, total = selectors.forecast(
        user=request.user, period=period, group_by=group_by, currency=currency
    )
    return render(
        request,
        "sales/forecast.html",
        {
            "periods": periods,
            "period": period,
            "group_by": group_by,
            "currency": currency,
            "currencies": list(services.CURRENCIES),
            "rows": rows,
            "total": total,
        },
    )


# Pipeline settings (admins) -------------------------------------------------------


@login_required
def pipeline_list(request):
    access.require_admin(request.user, services.PIPELINES_ADMIN_ONLY)
    return render(
        request,
        "sales/pipeline_list.html",
        {"pipelines": Pipeline.objects.prefetch_related("stages")},
    )


@login_required
@require_POST
def pipeline_template(request):
    access.require_admin(request.user, services.PIPELINES_ADMIN_ONLY)
    try:
        pipeline = services.pipeline_install_template(
            actor=request.user, template=request.POST.get("template", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:pipeline_list")
    messages.success(request, _("Added %(name)s.") % {"name": pipeline})
    return redirect("sales:pipeline_edit", pk=pipeline.pk)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request, pk=None):
    """The pipeline and its stages as one form; the stage rows are edited in the page and
    posted as JSON so that adding, removing and reordering stages needs no page reload."""
    access.require_admin(request.user, services.PIPELINES_ADMIN_ONLY)
    pipeline = get_object_or_404(Pipeline, pk=pk) if pk else None
    errors: list[str] = []
    if request.method == "POST":
        try:
            stages = json.loads(request.POST.get("stages") or "[]")
            stall = int(request.POST.get("default_stall_days") or 14)
        except (ValueError, TypeError):
            stages, stall = [], 14
            errors.append(_("The stages could not be read; nothing was saved."))
        if not errors:
            try:
                pipeline = services.pipeline_save(
                    actor=request.user,
                    pipeline=pipeline,
                    name=request.POST.get("name", ""),
                    translations={
                        lang: request.POST.get(f"name_{lang}", "") for lang in ("ja", "ko", "en")
                    },
                    kind=request.POST.get("kind") or Pipeline.Kind.OTHER,
                    default_stall_days=stall,
                    is_active=request.POST.get("is_active") == "on",
                    stages=stages,
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("Saved."))
                return redirect("sales:pipeline_edit", pk=pipeline.pk)
    if request.method == "POST":
        # What the admin typed comes back as it was, even when it could not be saved.
        stages_json = request.POST.get("stages") or "[]"
    else:
        stages_json = json.dumps(
            [
                {
                    "id": s.pk,
                    "name": s.name,
                    "translations": s.translations,
                    "phase": s.phase.name if s.phase else "",
                    "probability": s.probability,
                    "outcome": s.outcome,
                    "stall_days": s.stall_days,
                    "required_fields": s.required_fields,
                    "checklist": [i["name"] for i in s.checklist],
                }
                for s in (pipeline.stages.select_related("phase") if pipeline else [])
            ],
            ensure_ascii=False,
        )
    return render(
        request,
        "sales/pipeline_form.html",
        {
            "pipeline": pipeline,
            "errors": errors,
            "stages_json": stages_json,
            "criteria": criteria.choices(),
            "outcomes": Stage.Outcome.choices,
            "kinds": Pipeline.Kind.choices,
            "post": request.POST if request.method == "POST" else None,
        },
        status=422 if errors else 200,
    )
