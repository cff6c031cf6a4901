"""Product catalogue, sales settings and quotes (HTML)."""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.core import access, ui
from kizuna.core.records import ConflictError
from kizuna.core.tables import Column
from kizuna.sales import selectors as deal_selectors
from kizuna.sales import selectors_quotes as selectors
from kizuna.sales import services_quotes as services
from kizuna.sales.forms_quotes import (
    ProductFilterForm,
    ProductForm,
    QuoteFilterForm,
    QuoteForm,
    SalesSettingsForm,
)
from kizuna.sales.models import Product, SalesSettings
from kizuna.sales.quotes import pdf, pricing


def _plain(amount: Decimal, quote) -> str:
    """An amount for a spreadsheet: digits in the currency's unit, no sign or separators."""
    return f"{amount:.{pricing.currency_exponent(quote.currency)}f}"


# Products -----------------------------------------------------------------


def product_columns(is_admin: bool) -> list[Column]:
    def edit_url(p):
        return reverse("sales:product_edit", args=[p.pk])

    return [
        Column("code", _("Product code"), lambda p: p.code, edit_url if is_admin else None),
        Column("name", _("Product name"), lambda p: p.name),
        Column(
            "unit_price", _("Unit price"), lambda p: pricing.format_amount(p.unit_price, p.currency)
        ),
        Column("unit", _("Unit"), lambda p: p.unit, optional=True),
        Column("tax_rate", _("Tax rate"), lambda p: p.get_tax_rate_display()),
        Column("active", _("Active"), lambda p: p.is_active, optional=True),
    ]


@login_required
def product_list(request):
    form = ProductFilterForm(request.GET or None)
    is_admin = access.is_admin(request.user)
    return ui.list_page(
        request,
        title=_("Products"),
        object_type="product",
        filter_form=form,
        queryset=selectors.product_list(filters=form.filters()),
        columns=product_columns(is_admin),
        create_url=reverse("sales:product_create") if is_admin else None,
    )


def _product_page(request, product: Product | None):
    access.require_admin(request.user)
    form = ProductForm(request.POST or None, instance=product)

    def save(kwargs):
        if product is None:
            return services.product_create(actor=request.user, **kwargs)
        return services.product_update(actor=request.user, product=product, **kwargs)

    return ui.record_form_page(
        request,
        form=form,
        save=save,
        success_url=lambda _obj: reverse("sales:product_list"),
        template="core/record_form.html",
        context={
            "title": product.name if product else _("New product"),
            "back_url": reverse("sales:product_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    return _product_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    access.require_admin(request.user)
    return _product_page(request, get_object_or_404(Product, pk=pk))


@login_required
@require_http_methods(["GET", "POST"])
def sales_settings(request):
    access.require_admin(request.user)
    form = SalesSettingsForm(request.POST or None, instance=SalesSettings.get())
    return ui.record_form_page(
        request,
        form=form,
        save=lambda kwargs: services.sales_settings_update(actor=request.user, **kwargs),
        success_url=lambda _obj: reverse("sales:sales_settings"),
        template="core/record_form.html",
        context={"title": _("Quote settings"), "back_url": reverse("sales:quote_list")},
    )


# Quotes -------------------------------------------------------------------


def quote_columns() -> list[Column]:
    return [
        Column(
            "number",
            _("Quote number"),
            lambda q: q.number,
            lambda q: reverse("sales:quote_detail", args=[q.pk]),
        ),
        Column("issue_date", _("Issue date"), lambda q: q.issue_date),
        Column("customer", _("Customer"), lambda q: q.customer_name),
        Column(
            "deal",
            _("Deal"),
            lambda q: q.deal.name,
            lambda q: reverse("sales:deal_detail", args=[q.deal_id]),
            optional=True,
        ),
        Column("subject", _("Subject"), lambda q: q.subject, optional=True),
        Column("total", _("Total"), lambda q: pricing.format_amount(q.total, q.currency)),
        Column("status", _("Status"), lambda q: q.get_current_status_display()),
        Column("valid_until", _("Valid until"), lambda q: q.valid_until, optional=True),
        Column("owner", _("Owner"), lambda q: q.owner, optional=True),
        # Exports carry the amounts as numbers too.
        Column("currency", _("Currency"), lambda q: q.currency, listed=False),
        Column("subtotal_amount", _("Subtotal"), lambda q: _plain(q.subtotal, q), listed=False),
        Column("tax_amount", _("Consumption tax"), lambda q: _plain(q.tax, q), listed=False),
        Column("total_amount", _("Total (number)"), lambda q: _plain(q.total, q), listed=False),
    ]


@login_required
def quote_list(request):
    form = QuoteFilterForm(request.GET or None)
    return ui.list_page(
        request,
        title=_("Quotes"),
        object_type="quote",
        filter_form=form,
        queryset=selectors.quote_list(user=request.user, filters=form.filters()),
        columns=quote_columns(),
    )


def _deal_for_quote(request, pk: int):
    deal = deal_selectors.deal_detail(user=request.user, pk=pk)  # 404 when not visible
    if not access.can_edit(request.user, deal):
        raise PermissionDenied(_("You may not change this record."))
    return deal


def _quote_form(request, deal) -> QuoteForm:
    settings = SalesSettings.get()
    today = timezone.localdate()
    products = selectors.product_list(active_only=True)
    language = (get_language() or "ja")[:2]
    initial = {
        "language": language if language in ("ja", "ko", "en") else "ja",
        "currency": deal.currency if deal.currency in ("JPY", "KRW", "USD") else "JPY",
        "subject": deal.name,
        "issue_date": today,
        "valid_until": today + datetime.timedelta(days=settings.quote_validity_days),
        "notes": settings.quote_notes,
    }
    return QuoteForm(request.POST or None, initial=initial, products=products)


def _editor_context(form: QuoteForm, deal) -> dict:
    rows = form.rows or [{}]
    return {
        "deal": deal,
        "form": form,
        "rows": [(i, row, form.row_errors.get(i, {})) for i, row in enumerate(rows)],
        "products": form.products.values(),
        "tax_rates": [(10, "10%"), (8, "8%"), (0, "0%")],
    }


@login_required
@require_http_methods(["GET", "POST"])
def deal_quote_create(request, pk):
    deal = _deal_for_quote(request, pk)
    form = _quote_form(request, deal)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(actor=request.user, deal=deal, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Quote %(number)s issued.") % {"number": quote.number})
            return redirect("sales:quote_detail", pk=quote.pk)
    status = 422 if request.method == "POST" else 200
    context = _editor_context(form, deal)
    context["totals"] = _preview_totals(form, deal)
    return render(request, "sales/quotes/quote_form.html", context, status=status)


def _preview_totals(form: QuoteForm, deal):
    """Totals for the editor, or the first problem that keeps them from adding up."""
    if not form.is_bound:
        return None
    currency = form.data.get("currency") or deal.currency
    lines = form.line_inputs()
    if not lines:
        return None
    try:
        totals = services.quote_totals(
            lines=lines, currency=currency, discount=form.data.get("discount") or 0
        )
    except ValidationError as exc:
        return {"error": exc.messages[0]}
    return {
        "lines": [pricing.format_amount(a.net, currency) for a in totals.lines],
        "rates": [
            (
                pricing.format_rate(r.rate),
                pricing.format_amount(r.taxable, currency),
                pricing.format_amount(r.tax, currency),
            )
            for r in totals.rates
        ],
        "subtotal": pricing.format_amount(totals.subtotal, currency),
        "discount": pricing.format_amount(-totals.discount, currency) if totals.discount else "",
        "total": pricing.format_amount(totals.total, currency),
    }


@login_required
@require_POST
def deal_quote_preview(request, pk):
    """The live totals of the quote editor (htmx)."""
    deal = _deal_for_quote(request, pk)
    form = _quote_form(request, deal)
    return render(request, "sales/quotes/_totals.html", {"totals": _preview_totals(form, deal)})


@login_required
def quote_detail(request, pk):
    quote = selectors.quote_detail(user=request.user, pk=pk)
    return render(
        request,
        "sales/quotes/quote_detail.html",
        {
            "quote": quote,
            "lines": [
                (
                    line,
                    pricing.format_amount(line.unit_price, quote.currency),
                    pricing.format_amount(line.amount, quote.currency),
                )
                for line in quote.lines.all()
            ],
            "rates": [
                (
                    pricing.format_rate(Decimal(r["rate"])),
                    pricing.format_amount(Decimal(r["taxable"]), quote.currency),
                    pricing.format_amount(Decimal(r["tax"]), quote.currency),
                )
                for r in quote.tax_summary
            ],
            "money": {
                "subtotal": pricing.format_amount(quote.subtotal, quote.currency),
                "discount": pricing.format_amount(-quote.discount, quote.currency)
                if quote.discount
                else "",
                "tax": pricing.format_amount(quote.tax, quote.currency),
                "total": pricing.format_amount(quote.total, quote.currency),
            },
            "can_edit": selectors.can_edit_quote(request.user, quote),
            "languages": [("ja", "日本語"), ("ko", "한국어"), ("en", "English")],
        },
    )


@login_required
def quote_pdf(request, pk):
    quote = selectors.quote_detail(user=request.user, pk=pk)
    language = request.GET.get("lang") or quote.language
    if language not in pdf.LANGUAGES:
        language = quote.language
    data = pdf.render_quote(selectors.quote_document(quote, language=language))
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{quote.number}-{language}.pdf"'
    return response


@login_required
@require_POST
def quote_decide(request, pk):
    quote = selectors.quote_detail(user=request.user, pk=pk)
    if not selectors.can_edit_quote(request.user, quote):
        raise PermissionDenied(_("You may not change this record."))
    decision = request.POST.get("decision")
    version = request.POST.get("version")
    try:
        if decision == "accept":
            services.quote_accept(actor=request.user, quote=quote, version=version)
            messages.success(request, _("Quote accepted."))
        elif decision == "reject":
            services.quote_reject(actor=request.user, quote=quote, version=version)
            messages.success(request, _("Quote marked as rejected."))
        else:
            messages.error(request, _("Choose accept or reject."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except ConflictError:
        messages.error(request, _("Someone else changed this quote; check it again and retry."))
    return redirect("sales:quote_detail", pk=quote.pk)
