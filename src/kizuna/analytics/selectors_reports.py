"""Reads of saved reports and their results, for the acting user."""

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kizuna.analytics import reports
from kizuna.analytics.models_reports import SavedReport
from kizuna.core import access


def report_list(*, user, q: str = "") -> QuerySet[SavedReport]:
    """The reports ``user`` may open: their own and their subordinates', and the ones
    shared with their team."""
    qs = SavedReport.objects.select_related("owner", "team", "schedule")
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    viewer = access.viewer_for(user)
    if not viewer.is_admin:
        grant = Q(owner_id__in=viewer.user_ids)
        if viewer.team_id is not None:
            grant |= Q(shared=True, team_id=viewer.team_id)
        qs = qs.filter(grant)
    if q:
        qs = qs.filter(name__icontains=q.strip())
    return qs


def report_detail(*, user, pk: int) -> SavedReport:
    try:
        return report_list(user=user).get(pk=pk)
    except (SavedReport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def can_edit_report(user, report: SavedReport) -> bool:
    return report.owner_id == user.pk or access.is_admin(user)


def run_spec(*, user, spec) -> reports.Result:
    """Clean and run an unsaved spec; a ValidationError explains what is wrong."""
    return reports.run(reports.clean_spec(spec), user=user)


def run_report(*, user, report: SavedReport) -> reports.Result:
    """A saved report's result as ``user`` sees it; a field deleted since the report was
    saved (or any spec that no longer holds) gives an error state, never an exception."""
    spec = report.spec
    missing = (
        [
            key
            for key in reports.referenced_fields(spec)
            if key not in reports.catalogue(spec.get("object", ""))
        ]
        if spec.get("object") in reports.MODELS
        else []
    )
    if missing:
        label = report.field_labels.get(missing[0]) or missing[0]
        result = reports.Result(spec=spec, missing_field=missing[0])
        result.error = _("This field was deleted: %(field)s") % {"field": label}
        return result
    try:
        spec = reports.clean_spec(spec)
    except ValidationError as exc:
        result = reports.Result(spec=report.spec)
        result.error = _("This report no longer works: %(problem)s") % {
            "problem": " ".join(exc.messages)
        }
        return result
    return reports.run(spec, user=user)


def pinned_reports(user) -> list[tuple[SavedReport, reports.Result]]:
    """The reports put on the dashboard that ``user`` may open, with their results as
    ``user`` sees them; for the dashboards to render."""
    return [
        (report, run_report(user=user, report=report))
        for report in report_list(user=user).filter(pinned=True)
    ]
