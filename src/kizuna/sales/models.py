"""Pipelines, phases and stages with exit criteria, deals and their stage history."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import (
    CustomFieldsModel,
    NextActionModel,
    OwnedModel,
    SearchableModel,
    TimeStampedModel,
)


class Translated(models.Model):
    """A configurable name with its translations: ``{"ja": ..., "ko": ..., "en": ...}``."""

    name = models.CharField(_("name"), max_length=100)
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = (get_language() or "en").split("-")[0]
        return self.translations.get(language) or self.name


class Pipeline(Translated):
    class Kind(models.TextChoices):
        NEW_BUSINESS = "new_business", _("New business")
        RENEWAL = "renewal", _("Renewal")
        EXPANSION = "expansion", _("Expansion")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    default_stall_days = models.PositiveSmallIntegerField(
        _("stalled after (days)"),
        default=14,
        help_text=_("A deal with no stage change and no activity for this long is stalled."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")


class Phase(Translated):
    """A group of stages (アプローチ, ヒアリング, 提案 ...) shown as one band on the board."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")


class Stage(Translated):
    class Outcome(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal", "Open")
        WON = "won", pgettext_lazy("deal", "Won")
        LOST = "lost", pgettext_lazy("deal", "Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    phase = models.ForeignKey(
        Phase,
        verbose_name=_("phase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stages",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN
    )
    stall_days = models.PositiveSmallIntegerField(
        _("stalled after (days)"),
        null=True,
        blank=True,
        help_text=_("Leave empty to use the pipeline's default."),
    )
    # Exit criteria: deal fields (see ``sales.criteria.CRITERIA_FIELDS``) that must be
    # captured, and checklist items ``[{"key": ..., "name": ..., "translations": {...}}]``
    # that must be ticked, before a deal may leave this stage forward.
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    checklist = models.JSONField(_("checklist"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN

    def effective_stall_days(self) -> int:
        return self.stall_days or self.pipeline.default_stall_days


class LossReason(Translated):
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")


class HandoffTask(models.Model):
    """A task created when a deal of ``pipeline`` (or any pipeline) is won."""

    pipeline = models.ForeignKey(
        Pipeline,
        verbose_name=_("pipeline"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="handoff_tasks",
        help_text=_("Empty: every pipeline."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: the deal's owner."),
    )
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"), default=3)

    class Meta:
        ordering = ["id"]
        verbose_name = _("hand-off task")
        verbose_name_plural = _("hand-off tasks")

    def __str__(self) -> str:
        return self.subject


class Captured(models.TextChoices):
    NOT_YET = "", _("Not yet captured")
    CAPTURED = "captured", _("Captured")


class Deal(OwnedModel, CustomFieldsModel, NextActionModel, SearchableModel):
    access_object_type = "deal"

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal", "Open")
        WON = "won", pgettext_lazy("deal", "Won")
        LOST = "lost", pgettext_lazy("deal", "Lost")

    class ForecastCategory(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        OMITTED = "omitted", _("Omitted")

    class Reaction(models.TextChoices):
        POSITIVE = "positive", _("Positive (前向き)")
        CONSIDERING = "considering", _("Considering (検討中)")
        CAUTIOUS = "cautious", _("Somewhat cautious (やや慎重)")
        NEGATIVE = "negative", _("Negative (否定的)")

    class Competitor(models.TextChoices):
        NO = "no", _("No competitor")
        YES = "yes", _("Competing")

    class Hurdle(models.TextChoices):
        APPROVAL = "approval", _("Internal approval (稟議)")
        RISK = "risk", _("Adoption risk")
        PRICE = "price", _("Price")
        UNKNOWN = "unknown", _("Unknown")

    class NextStep(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        NONE = "none", _("None yet")

    name = models.CharField(_("deal name"), max_length=200)
    company = models.ForeignKey(
        "customers.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, editable=False
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    channel = models.CharField(_("channel / source"), max_length=20, blank=True)
    source_lead = models.ForeignKey(
        "customers.Lead",
        verbose_name=_("source lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"),
        null=True,
        blank=True,
        help_text=_("Empty: the stage's probability."),
    )
    probability_reason = models.CharField(
        _("reason for the probability"), max_length=200, blank=True
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=20,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )

    # BANT: each item is captured or not yet, with a note.
    budget_status = models.CharField(
        _("budget"), max_length=10, choices=Captured.choices, blank=True, default=""
    )
    budget_note = models.CharField(_("budget: details"), max_length=300, blank=True)
    authority_status = models.CharField(
        _("decision maker"), max_length=10, choices=Captured.choices, blank=True, default=""
    )
    authority_note = models.CharField(_("decision maker: details"), max_length=300, blank=True)
    need_status = models.CharField(
        _("need"), max_length=10, choices=Captured.choices, blank=True, default=""
    )
    need_note = models.CharField(_("need: details"), max_length=300, blank=True)
    timing_status = models.CharField(
        _("timing"), max_length=10, choices=Captured.choices, blank=True, default=""
    )
    timing_note = models.CharField(_("timing: details"), max_length=300, blank=True)

    first_reaction = models.CharField(
        _("first reaction"), max_length=20, choices=Reaction.choices, blank=True
    )
    first_reaction_note = models.CharField(_("first reaction: details"), max_length=300, blank=True)
    competitor = models.CharField(
        _("competitor"), max_length=10, choices=Competitor.choices, blank=True
    )
    competitor_name = models.CharField(_("competitor: who"), max_length=200, blank=True)
    hurdle = models.CharField(_("hurdle"), max_length=20, choices=Hurdle.choices, blank=True)
    hurdle_note = models.CharField(_("hurdle: details"), max_length=300, blank=True)
    next_step = models.CharField(
        _("next step"), max_length=20, choices=NextStep.choices, blank=True
    )
    next_step_note = models.CharField(_("next step: details"), max_length=300, blank=True)

    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loss_note = models.TextField(_("loss: details"), blank=True)
    won_points = models.TextField(_("deciding points"), blank=True)
    won_terms = models.TextField(_("final terms"), blank=True)
    handoff_notes = models.TextField(_("hand-off notes"), blank=True)

    # Ticked checklist items: {"<stage id>": ["<item key>", ...]}.
    checklist_done = models.JSONField(default=dict, blank=True, editable=False)
    stage_entered_at = models.DateTimeField(default=timezone.now, editable=False)
    # The later of the last stage change and the last activity: what "stalled" is measured on.
    last_touched_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["pipeline", "status", "stage"], name="deal_board"),
            models.Index(fields=["status", "expected_close_date"], name="deal_forecast"),
            # The dashboards read the deals closed in a period from this index
            # alone (SQLite has no INCLUDE, so the columns are keys).
            models.Index(
                fields=[
                    "status",
                    "closed_at",
                    "owner",
                    "team",
                    "company",
                    "currency",
                    "amount",
                    "loss_reason",
                    "source_lead",
                    "pipeline",
                ],
                name="deal_closed",
            ),
            models.Index(fields=["company", "status"], name="deal_company"),
            # With closed_at: a rep's board reads her team's recently closed deals only.
            models.Index(fields=["owner", "status", "closed_at"], name="deal_owner"),
            models.Index(fields=["team", "status", "closed_at"], name="deal_team"),
            # The report builder's scans of all deals read these alone: by owner
            # and stage already in group order (no sort), by the creation date
            # in date order (buckets arrive presorted). Team for a rep's gate.
            models.Index(
                fields=["owner", "stage", "currency", "amount", "team"],
                name="deal_report_owner",
            ),
            models.Index(
                fields=["created_at", "status", "currency", "amount"],
                name="deal_report_created",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_probability(self) -> int:
        return self.stage.probability if self.probability is None else self.probability

    @property
    def weighted_amount(self) -> Decimal:
        return self.amount * self.effective_probability / 100

    def search_values(self) -> list[str | None]:
        return [self.name, self.competitor_name, self.next_action]


class DealContact(models.Model):
    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        APPROVER = "approver", _("Approver")
        OTHER = "other", _("Other")

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OTHER)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact"], name="deal_contact_once")
        ]


class StageChange(models.Model):
    """One move of a deal, kept for time in stage, lead time and conversion."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    # Seconds the deal spent in ``from_stage`` before this move.
    seconds_in_from = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["deal", "at"], name="stagechange_deal"),
            models.Index(fields=["to_stage", "at"], name="stagechange_to"),
            # Stage win rates and lead times read a deal's history from the index.
            models.Index(
                fields=["deal", "to_stage", "from_stage", "at"], name="stagechange_deal_cover"
            ),
        ]


# Products and quotes ------------------------------------------------------
# (The pure logic — amounts, tax, numbering, the PDF — is in sales/quotes/.)


class Currency(models.TextChoices):
    JPY = "JPY", _("Japanese yen (JPY)")
    KRW = "KRW", _("Korean won (KRW)")
    USD = "USD", _("US dollar (USD)")


class TaxRate(models.IntegerChoices):
    STANDARD = 10, _("10 % (standard)")
    REDUCED = 8, _("8 % (reduced)")
    ZERO = 0, _("0 % (exempt or zero-rated)")


class TaxRounding(models.TextChoices):
    DOWN = "down", _("Round down (切り捨て)")
    HALF_UP = "half_up", _("Round half up (四捨五入)")
    UP = "up", _("Round up (切り上げ)")


class QuoteLanguage(models.TextChoices):
    JA = "ja", "日本語"
    KO = "ko", "한국어"
    EN = "en", "English"


class Product(TimeStampedModel):
    """An item of the catalogue; quotes copy its price and tax rate."""

    code = models.CharField(_("product code"), max_length=50, unique=True)
    name = models.CharField(_("product name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    tax_rate = models.PositiveSmallIntegerField(
        _("tax rate"), choices=TaxRate.choices, default=TaxRate.STANDARD
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SalesSettings(models.Model):
    """What quotes print about the seller, and how they are numbered; one row (pk=1)."""

    seller_name = models.CharField(_("seller name"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_phone = models.CharField(_("seller phone"), max_length=30, blank=True)
    registration_number = models.CharField(
        _("qualified invoice registration number"),
        max_length=14,
        blank=True,
        help_text=_("“T” and 13 digits (適格請求書発行事業者登録番号)."),
    )
    sole_proprietor = models.BooleanField(
        _("sole proprietor"),
        default=False,
        help_text=_("A sole proprietor's number has no 法人番号 check digit to verify."),
    )
    quote_number_pattern = models.CharField(
        _("quote number pattern"),
        max_length=40,
        default="Q-{year}-{seq:04d}",
        help_text=_("{year}, {yy} and {seq} (e.g. {seq:04d}); numbering restarts every year."),
    )
    quote_validity_days = models.PositiveSmallIntegerField(_("quotes valid for (days)"), default=30)
    tax_rounding = models.CharField(
        _("tax rounding"), max_length=10, choices=TaxRounding.choices, default=TaxRounding.DOWN
    )
    quote_notes = models.TextField(_("default quote notes"), blank=True)
    accepted_quote_stage = models.ForeignKey(
        Stage,
        verbose_name=_("move the deal on acceptance to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("sales settings")

    @classmethod
    def get(cls) -> "SalesSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class QuoteSeries(models.Model):
    """The counter of one year's quote numbers; locked while a quote is numbered."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("quote number series")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_seq}"


class Quote(OwnedModel):
    """A quote issued from a deal; visible and editable with its deal.

    Owner and team are the deal's at issue time (for lists and reports); access
    is decided through the deal, so a quote is never seen without its deal.
    The seller and customer are copied in, so a reprint shows what was sent.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.PROTECT, related_name="quotes"
    )
    number = models.CharField(_("quote number"), max_length=60, unique=True)
    year = models.PositiveSmallIntegerField(editable=False)
    seq = models.PositiveIntegerField(editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    language = models.CharField(
        _("document language"), max_length=2, choices=QuoteLanguage.choices, default="ja"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    issue_date = models.DateField(_("issue date"))
    valid_until = models.DateField(_("valid until"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    tax_rounding = models.CharField(
        _("tax rounding"), max_length=10, choices=TaxRounding.choices, default=TaxRounding.DOWN
    )
    discount = models.DecimalField(
        _("discount"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("consumption tax"), max_digits=16, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    # Per rate: [{"rate", "subtotal", "discount", "taxable", "tax"}] as strings.
    tax_summary = models.JSONField(_("tax per rate"), default=list)
    seller_name = models.CharField(_("seller name"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_phone = models.CharField(_("seller phone"), max_length=30, blank=True)
    seller_registration_number = models.CharField(
        _("registration number"), max_length=14, blank=True
    )
    customer_name = models.CharField(_("customer"), max_length=200)
    customer_address = models.TextField(_("customer address"), blank=True)
    customer_contact = models.CharField(_("customer contact"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A form's one-time token: a double-clicked "issue" finds the first quote.
    request_token = models.CharField(max_length=64, null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "-seq"]
        indexes = [models.Index(fields=["deal", "-issue_date"], name="quote_deal_issued")]
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="quote_unique_seq"),
            models.UniqueConstraint(
                fields=["created_by", "request_token"], name="quote_unique_request_token"
            ),
        ]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self) -> str:
        return self.number

    @property
    def total_display(self) -> str:
        from kizuna.sales.quotes.pricing import format_amount

        return format_amount(self.total, self.currency)

    @property
    def current_status(self) -> str:
        """``expired`` for an issued quote past its validity date, else the status."""
        if self.status == self.Status.ISSUED and self.valid_until < timezone.localdate():
            return self.Status.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return str(self.Status(self.current_status).label)


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2)
    discount = models.DecimalField(
        _("discount"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    tax_rate = models.PositiveSmallIntegerField(_("tax rate"), choices=TaxRate.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["quote", "position"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return self.description
