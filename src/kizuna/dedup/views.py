"""The review queue, the side-by-side compare page, the merge history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import access, ui
from kizuna.core.validators import format_phone
from kizuna.dedup import selectors, services
from kizuna.dedup.lookup import match_one
from kizuna.dedup.merging import MERGE_FIELDS, MODELS, default_choices
from kizuna.dedup.models import DuplicateCandidate, Entity, ScanRun


def _entity(request) -> str:
    entity = request.GET.get("entity") or "contact"
    if entity not in MODELS:
        raise Http404
    return entity


@login_required
def queue(request):
    entity = _entity(request)
    candidates = selectors.candidate_list(user=request.user, entity=entity)
    record = request.GET.get("record", "")
    if record.isdigit():
        # From a record page's "N possible duplicates".
        candidates = selectors.open_candidates_for(
            user=request.user, entity=entity, record_id=int(record)
        )
    page = ui.paginate(request, candidates)
    rows = selectors.with_records(page.object_list, entity)
    counts = selectors.candidate_counts(user=request.user)
    tabs = [(e.value, e.label, counts.get(e.value, 0)) for e in Entity]
    is_admin = access.is_admin(request.user)
    scan = ScanRun.objects.filter(entity=entity).first() if is_admin else None
    return render(
        request,
        "dedup/queue.html",
        {
            "page": page,
            "rows": rows,
            "entity": entity,
            "tabs": tabs,
            "query": f"entity={entity}" + (f"&record={record}" if record.isdigit() else ""),
            "record": record if record.isdigit() else "",
            "is_admin": is_admin,
            "scan": scan,
        },
    )


def _candidate_records(request, pk: int):
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    model = MODELS[candidate.entity]
    a = access.get_visible_or_404(model._default_manager.all(), request.user, pk=candidate.a_id)
    b = access.get_visible_or_404(model._default_manager.all(), request.user, pk=candidate.b_id)
    for record in (a, b):
        if not access.can_edit(request.user, record):
            raise PermissionDenied(_("You may not change this record."))
    return candidate, a, b


def _display(record, name: str) -> str:
    field = record._meta.get_field(name)
    if field.choices:
        return str(getattr(record, f"get_{name}_display")())
    value = getattr(record, name)
    return "" if value is None else str(value)


def _channels(entity: str, record) -> str:
    if entity != "contact":
        return ""
    emails = [e.email for e in record.emails.all()]
    phones = [format_phone(p.number) for p in record.phones.all()]
    return " / ".join(emails + phones)


@login_required
def compare(request, pk: int):
    candidate, a, b = _candidate_records(request, pk)
    entity = candidate.entity
    if request.method == "POST":
        try:
            survivor_id = int(request.POST.get("survivor", a.pk))
        except ValueError:
            survivor_id = a.pk
        if survivor_id not in (a.pk, b.pk):
            survivor_id = a.pk
        other = b if survivor_id == a.pk else a
        choices = {}
        for name in MERGE_FIELDS[entity]:
            value = request.POST.get(f"f_{name}")
            if value and value.isdigit():
                choices[name] = int(value)
        try:
            merge = services.record_merge(
                actor=request.user,
                entity=entity,
                survivor=survivor_id,
                others=[other.pk],
                choices=choices,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("dedup:compare", pk=pk)
        messages.success(
            request,
            _("Merged into %(name)s. You can undo this in the merge history.")
            % {"name": MODELS[entity]._default_manager.get(pk=merge.survivor_id)},
        )
        return redirect(f"customers:{entity}_detail", pk=merge.survivor_id)
    survivor = a  # the older record keeps its id by default
    defaults = default_choices(entity, survivor, [a, b])
    fields = []
    for name in MERGE_FIELDS[entity]:
        values = (_display(a, name), _display(b, name))
        fields.append(
            {
                "name": name,
                "label": a._meta.get_field(name).verbose_name,
                "a": values[0],
                "b": values[1],
                "same": values[0] == values[1],
                "choice": defaults[name],
            }
        )
    explanation = selectors.with_records([candidate], entity)
    return render(
        request,
        "dedup/compare.html",
        {
            "candidate": candidate,
            "entity": entity,
            "a": a,
            "b": b,
            "fields": fields,
            "channels": (_channels(entity, a), _channels(entity, b)),
            "explanation": explanation[0]["explanation"] if explanation else "",
            "detail_url": f"customers:{entity}_detail",
        },
    )


@login_required
@require_POST
def dismiss(request, pk: int):
    candidate, _a, _b = _candidate_records(request, pk)
    services.candidate_dismiss(actor=request.user, candidate=candidate)
    messages.success(request, _("Marked as not a duplicate."))
    return redirect(f"{reverse('dedup:queue')}?entity={candidate.entity}")


@login_required
def merge_history(request):
    entity = request.GET.get("entity") or None
    if entity and entity not in MODELS:
        raise Http404
    page = ui.paginate(request, selectors.merge_list(user=request.user, entity=entity))
    rows = []
    for merge in page.object_list:
        snapshot = merge.snapshot or {}
        losers = [_snapshot_name(d) for d in snapshot.get("losers", [])]
        rows.append(
            {
                "merge": merge,
                "survivor": _snapshot_name(snapshot.get("survivor", {})),
                "losers": losers,
            }
        )
    return render(
        request,
        "dedup/merge_list.html",
        {"page": page, "rows": rows, "entity": entity or "", "query": f"entity={entity or ''}"},
    )


def _snapshot_name(data: dict) -> str:
    if data.get("name"):
        return str(data["name"])
    return " ".join(filter(None, [data.get("family_name"), data.get("given_name")]))


@login_required
@require_POST
def merge_undo(request, pk: int):
    merge = get_object_or_404(selectors.merge_list(user=request.user), pk=pk)
    try:
        services.merge_undo(actor=request.user, merge=merge)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dedup:merge_history")
    messages.success(request, _("The merge has been undone; the records are back."))
    return redirect("dedup:merge_history")


# The full scan ----------------------------------------------------------------


@login_required
@require_POST
def scan_start(request):
    access.require_admin(request.user)
    entity = request.POST.get("entity") or "contact"
    if entity not in MODELS:
        raise Http404
    try:
        services.scan_start(actor=request.user, entity=entity)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(f"{reverse('dedup:queue')}?entity={entity}")


def _scan_partial(request, run: ScanRun):
    return render(request, "dedup/_scan.html", {"scan": run, "entity": run.entity})


@login_required
def scan_progress(request, pk: int):
    """The progress bar; htmx polls it while the scan runs."""
    access.require_admin(request.user)
    return _scan_partial(request, get_object_or_404(ScanRun, pk=pk))


@login_required
@require_POST
def scan_cancel(request, pk: int):
    access.require_admin(request.user)
    run = services.scan_cancel(actor=request.user, run=get_object_or_404(ScanRun, pk=pk))
    if request.htmx:
        return _scan_partial(request, run)
    return redirect(f"{reverse('dedup:queue')}?entity={run.entity}")


# The "this looks like …" hint on the create forms ---------------------------

HINT_SHOWN = 3


def _lines(value: str) -> str:
    """Textarea lines as the lookup's list separator."""
    return ";".join(v.strip() for v in value.splitlines() if v.strip())


def _hint_row(request, entity: str) -> dict[str, str]:
    """The create form's fields as the lookup's canonical row."""
    get = request.GET.get
    if entity == "company":
        address = " ".join(
            filter(None, (get(k, "").strip() for k in ("prefecture", "city", "street", "building")))
        )
        row = {k: get(k, "") for k in ("name", "name_reading", "corporate_number", "domain")}
        return {
            **row,
            "phone": get("phone", ""),
            "postal_code": get("postal_code", ""),
            "address": address,
        }
    row = {
        k: get(k, "")
        for k in ("family_name", "given_name", "family_name_reading", "given_name_reading")
    }
    if entity == "lead":
        row.update(company=get("company_name", ""), email=get("email", ""), phone=get("phone", ""))
    else:
        row.update(email=_lines(get("emails", "")), phone=_lines(get("phones", "")))
        # The company picker's text box holds the chosen company's name.
        row["company"] = get("q", "")
    return row


@login_required
def hint(request):
    """Records the one being typed may already be (htmx, on the create forms)."""
    entity = _entity(request)
    row = _hint_row(request, entity)
    found = match_one(entity, row, user=request.user)[:HINT_SHOWN] if any(row.values()) else []
    items = []
    if found:
        qs = MODELS[entity]._default_manager.filter(pk__in=[m.record_id for m in found])
        if entity == "contact":
            qs = qs.select_related("company")
        records = qs.in_bulk()
        for m in found:
            record = records.get(m.record_id)
            if record is None:
                continue
            if entity == "company":
                question = _("Is this %(name)s, already in Kizuna?") % {"name": record.name}
            else:
                company = (
                    record.company.name
                    if entity == "contact" and record.company
                    else getattr(record, "company_name", "")
                )
                name = f"{record.family_name} {record.given_name}".strip()
                if company:
                    question = _("Is this %(name)s at %(company)s?") % {
                        "name": name,
                        "company": company,
                    }
                else:
                    question = _("Is this %(name)s?") % {"name": name}
            items.append(
                {
                    "question": question,
                    "url": reverse(f"customers:{entity}_detail", args=[record.pk]),
                    "why": m.explanation,
                }
            )
    return render(request, "dedup/_hint.html", {"items": items})
