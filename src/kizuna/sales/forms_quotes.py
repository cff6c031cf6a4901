"""Forms for products, sales settings and quotes: they check types, services check rules."""

import secrets
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kizuna.iam.models import Team
from kizuna.sales.models import (
    Currency,
    Product,
    Quote,
    QuoteLanguage,
    SalesSettings,
    Stage,
    TaxRate,
    TaxRounding,
)
from kizuna.sales.services_quotes import LineInput

BLANK: list[tuple[str, Any]] = [("", "---------")]


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the fields it names."""

    def add_service_errors(self, exc: ValidationError) -> None:
        form: Any = self
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc)
            return
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)


class ProductForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("Product code"), max_length=50)
    name = forms.CharField(label=_("Product name"), max_length=200)
    unit_price = forms.CharField(
        label=_("Unit price"), max_length=40, help_text=_("Excluding tax, e.g. 12,000")
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    tax_rate = forms.TypedChoiceField(
        label=_("Tax rate"), choices=TaxRate.choices, coerce=int, initial=TaxRate.STANDARD
    )
    unit = forms.CharField(
        label=_("Unit"), max_length=20, required=False, help_text=_("e.g. 個, 式, 時間, 명")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance: Product | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "code": instance.code,
                    "name": instance.name,
                    "unit_price": instance.unit_price.normalize(),
                    "currency": instance.currency,
                    "tax_rate": instance.tax_rate,
                    "unit": instance.unit,
                    "description": instance.description,
                    "is_active": instance.is_active,
                    "version": instance.version,
                },
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        if instance is None:
            del self.fields["is_active"]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.instance is None:
            data.pop("version", None)
        return data


class SalesSettingsForm(ServiceErrorsMixin, forms.Form):
    seller_name = forms.CharField(label=_("Seller name"), max_length=200, required=False)
    seller_address = forms.CharField(
        label=_("Seller address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    seller_phone = forms.CharField(label=_("Seller phone"), max_length=30, required=False)
    registration_number = forms.CharField(
        label=_("Qualified invoice registration number"),
        max_length=40,
        required=False,
        help_text=_("“T” and 13 digits (適格請求書発行事業者登録番号)."),
    )
    sole_proprietor = forms.BooleanField(
        label=_("The seller is a sole proprietor"),
        required=False,
        help_text=_("A sole proprietor's number has no 法人番号 check digit to verify."),
    )
    quote_number_pattern = forms.CharField(
        label=_("Quote number pattern"),
        max_length=40,
        help_text=_("{year} or {yy}, and {seq} (e.g. Q-{year}-{seq:04d}); restarts every year."),
    )
    quote_validity_days = forms.IntegerField(label=_("Quotes valid for (days)"), min_value=1)
    tax_rounding = forms.ChoiceField(label=_("Tax rounding"), choices=TaxRounding.choices)
    quote_notes = forms.CharField(
        label=_("Default quote notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Payment terms, delivery … printed on every new quote."),
    )
    accepted_quote_stage = forms.ModelChoiceField(
        Stage.objects.none(),
        label=_("When a quote is accepted, move the deal to"),
        required=False,
        help_text=_("Only for deals in this stage's pipeline; its exit criteria apply."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance: SalesSettings, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                **{name: getattr(instance, name) for name in self.base_fields if name != "version"},
                "accepted_quote_stage": instance.accepted_quote_stage_id,
                "version": instance.version,
            },
        )
        super().__init__(*args, **kwargs)
        field: Any = self.fields["accepted_quote_stage"]
        field.queryset = Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "pipeline_id", "position"
        )
        field.label_from_instance = lambda s: f"{s.pipeline.label} › {s.label}"

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class QuoteFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=BLANK + Quote.Status.choices
    )
    owner = forms.ModelChoiceField(
        get_user_model().objects.none(), label=_("Owner"), required=False
    )
    team = forms.ModelChoiceField(Team.objects.all(), label=_("Team"), required=False)
    issued_from = forms.DateField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_to = forms.DateField(
        label=_("Issued until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field: Any = self.fields["owner"]
        field.queryset = get_user_model().objects.filter(is_active=True)

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: getattr(v, "pk", v) for k, v in data.items() if v not in (None, "")}


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=BLANK + Currency.choices
    )
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", "---------"), ("1", _("Active only"))],
    )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v not in (None, "")}


LINE_FIELDS = ("product", "description", "quantity", "unit", "unit_price", "discount", "tax_rate")


class QuoteForm(ServiceErrorsMixin, forms.Form):
    """The header of a quote; its lines come as parallel lists (``line-<field>``)."""

    language = forms.ChoiceField(label=_("Document language"), choices=QuoteLanguage.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    customer_contact = forms.CharField(
        label=_("Addressed to (person)"), max_length=200, required=False
    )
    issue_date = forms.DateField(
        label=_("Issue date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    discount = forms.CharField(
        label=_("Discount on the whole quote"), max_length=40, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    request_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_token", secrets.token_urlsafe(16))
        self.products = {str(p.pk): p for p in products}
        self.rows: list[dict[str, str]] = []
        self.row_errors: dict[int, dict[str, list[str]]] = {}
        self._row_of_line: list[int] = []
        if self.is_bound:
            data = self.data
            columns = {name: data.getlist(f"line-{name}") for name in LINE_FIELDS}
            count = max((len(v) for v in columns.values()), default=0)
            for i in range(count):
                row = {
                    name: (values[i] if i < len(values) else "") for name, values in columns.items()
                }
                self.rows.append(row)

    def line_inputs(self) -> list[LineInput]:
        """The rows that say anything, as service input; an unknown product is an error."""
        lines = []
        self._row_of_line = []
        for index, row in enumerate(self.rows):
            if not any(row[name].strip() for name in ("product", "description", "unit_price")):
                continue
            product = None
            if row["product"]:
                product = self.products.get(row["product"])
                if product is None:
                    self.row_errors.setdefault(index, {}).setdefault("product", []).append(
                        str(_("Choose a product from the catalogue."))
                    )
            lines.append(
                LineInput(
                    product=product,
                    description=row["description"],
                    quantity=row["quantity"] or "1",
                    unit=row["unit"],
                    unit_price=row["unit_price"],
                    discount=row["discount"] or "0",
                    tax_rate=row["tax_rate"],
                )
            )
            self._row_of_line.append(index)
        return lines

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, messages in exc.message_dict.items():
            parts = key.split(".")
            if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
                row = self._row_of_line[int(parts[1])]
                self.row_errors.setdefault(row, {}).setdefault(parts[2], []).extend(messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "language": data["language"],
            "currency": data["currency"],
            "subject": data["subject"],
            "customer_contact": data["customer_contact"],
            "issue_date": data["issue_date"],
            "valid_until": data["valid_until"],
            "discount": data["discount"] or "0",
            "notes": data["notes"],
            "request_token": data["request_token"] or None,
            "lines": self.line_inputs(),
        }
