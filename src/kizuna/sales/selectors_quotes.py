"""Reads of products and quotes; a quote is visible exactly when its deal is."""

from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kizuna.core import access
from kizuna.sales.models import Deal, Product, Quote
from kizuna.sales.quotes import pdf, pricing


def product_list(*, active_only: bool = False, filters: dict | None = None) -> QuerySet[Product]:
    """The catalogue is readable by every signed-in user."""
    qs = Product.objects.all()
    filters = filters or {}
    if active_only or filters.get("active") in (True, "1", "true"):
        qs = qs.filter(is_active=True)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if currency := filters.get("currency"):
        qs = qs.filter(currency=currency)
    return qs


def quote_list(*, user, filters: dict | None = None) -> QuerySet[Quote]:
    deals = access.visible(Deal.objects.all(), user)
    qs = Quote.objects.filter(deal__in=deals.values("pk")).select_related("deal", "owner", "team")
    filters = filters or {}
    if status := filters.get("status"):
        # An issued quote past its validity date is expired without a write.
        today = timezone.localdate()
        if status == Quote.Status.EXPIRED:
            qs = qs.filter(Q(status=status) | Q(status=Quote.Status.ISSUED, valid_until__lt=today))
        elif status == Quote.Status.ISSUED:
            qs = qs.filter(status=status, valid_until__gte=today)
        else:
            qs = qs.filter(status=status)
    if owner := filters.get("owner"):
        qs = qs.filter(owner_id=owner)
    if team := filters.get("team"):
        qs = qs.filter(team_id=team)
    if deal := filters.get("deal"):
        qs = qs.filter(deal_id=deal)
    if issued_from := filters.get("issued_from"):
        qs = qs.filter(issue_date__gte=issued_from)
    if issued_to := filters.get("issued_to"):
        qs = qs.filter(issue_date__lte=issued_to)
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(
            Q(number__icontains=q) | Q(customer_name__icontains=q) | Q(subject__icontains=q)
        )
    return qs


def quote_detail(*, user, pk: int) -> Quote:
    """A quote the user may see, with its lines; 404 otherwise."""
    quote = quote_list(user=user).prefetch_related("lines").filter(pk=pk).first()
    if quote is None:
        raise Http404
    return quote


def can_edit_quote(user, quote: Quote) -> bool:
    return access.can_edit(user, quote.deal)


def quote_document(quote: Quote, *, language: str | None = None) -> pdf.QuoteDocument:
    """What the PDF prints, from the quote's own copies of seller and customer."""
    language = language or quote.language
    lines = list(quote.lines.all())
    pricing_lines = [
        pricing.Line(
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=Decimal(line.tax_rate),
            discount=line.discount,
        )
        for line in lines
    ]
    totals = pricing.compute(
        pricing_lines, currency=quote.currency, discount=quote.discount, rounding=quote.tax_rounding
    )
    return pdf.QuoteDocument(
        language=language,
        number=quote.number,
        issue_date=quote.issue_date,
        valid_until=quote.valid_until,
        seller=pdf.Party(
            name=quote.seller_name,
            address=quote.seller_address,
            phone=quote.seller_phone,
            registration_number=quote.seller_registration_number,
            contact=str(quote.owner),
        ),
        customer=pdf.Party(
            name=quote.customer_name,
            address=quote.customer_address,
            contact=quote.customer_contact,
        ),
        lines=[
            pdf.DocumentLine(
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                tax_rate=Decimal(line.tax_rate),
                discount=line.discount,
                amount=line.amount,
            )
            for line in lines
        ],
        totals=totals,
        subject=quote.subject,
        notes=quote.notes,
    )
