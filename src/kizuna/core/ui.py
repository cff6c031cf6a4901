"""Helpers for the HTML views: lists, record forms, history."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kizuna.core import access, audit, exports
from kizuna.core.records import ConflictError
from kizuna.core.tables import Column, display


def paginate(request: HttpRequest, queryset, per_page: int | None = None):
    paginator = Paginator(queryset, per_page or settings.KIZUNA_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def list_page(
    request: HttpRequest,
    *,
    title: str,
    object_type: str,
    filter_form,
    queryset,
    columns: list[Column],
    create_url: str | None = None,
    template: str = "core/list.html",
    extra: dict[str, Any] | None = None,
) -> HttpResponse | FileResponse:
    filters = filter_form.filters()
    if request.GET.get("export") in ("csv", "xlsx"):
        return exports.export_response(
            actor=request.user,
            object_type=object_type,
            columns=columns,
            rows=queryset.iterator(chunk_size=2000),
            filters={k: str(v) for k, v in filters.items()},
            file_format=request.GET["export"],
            bom=request.GET.get("bom", "1") == "1",
        )
    page = paginate(request, queryset)
    columns = [c for c in columns if c.listed]
    rows = [
        (
            obj,
            [(display(c.value(obj)), c.link(obj) if c.link else None, c.optional) for c in columns],
        )
        for obj in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": title,
        "filter_form": filter_form,
        "columns": columns,
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
        "create_url": create_url,
        "import_url": reverse("imports:import_new") + f"?entity={object_type}",
        **(extra or {}),
    }
    return render(request, template, context)


def record_form_page(
    request: HttpRequest,
    *,
    form,
    save: Callable[[dict[str, Any]], Any],
    success_url: Callable[[Any], str],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Validate the form, call the service, and show its errors on the fields."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except ConflictError:
            form.add_error(
                None,
                _(
                    "Someone else changed this record while you were editing. "
                    "Reload the page to see their change, then make yours again."
                ),
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You may not change this record."))
        else:
            messages.success(request, _("Saved."))
            return redirect(success_url(obj))
    status = 422 if request.method == "POST" else 200
    return render(request, template, {"form": form, **context}, status=status)


def history_page(request: HttpRequest, obj, *, back_url: str) -> HttpResponse:
    entries = paginate(request, audit.entries_for(obj))
    return render(
        request,
        "core/history.html",
        {"object": obj, "page": entries, "back_url": back_url, "can_edit": False},
    )


def require_edit(request: HttpRequest, obj) -> None:
    if not access.can_edit(request.user, obj):
        raise PermissionDenied(_("You may not change this record."))
