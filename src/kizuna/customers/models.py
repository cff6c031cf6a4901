from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import CustomFieldsModel, NextActionModel, OwnedModel, SearchableModel
from kizuna.core.validators import validate_corporate_number

PREFECTURES_JP = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]
PROVINCES_KR = [
    "서울특별시",
    "부산광역시",
    "대구광역시",
    "인천광역시",
    "광주광역시",
    "대전광역시",
    "울산광역시",
    "세종특별자치시",
    "경기도",
    "강원특별자치도",
    "충청북도",
    "충청남도",
    "전북특별자치도",
    "전라남도",
    "경상북도",
    "경상남도",
    "제주특별자치도",
]


def path_prefix_q(path: str) -> models.Q:
    """Matches the companies whose path starts with ``path``, using the index."""
    if connection.vendor == "sqlite":
        # SQLite's LIKE is case-insensitive and so cannot use the index, but
        # a range can: every path under "/1/5/" lies in ["/1/5/", "/1/50").
        return models.Q(path__gte=path, path__lt=path[:-1] + "0")
    return models.Q(path__startswith=path)


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    WHOLESALE = "wholesale", _("Wholesale and trading")
    RETAIL = "retail", _("Retail")
    IT = "it", _("IT and software")
    FINANCE = "finance", _("Finance and insurance")
    CONSTRUCTION = "construction", _("Construction")
    REAL_ESTATE = "real_estate", _("Real estate")
    LOGISTICS = "logistics", _("Transport and logistics")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    SERVICES = "services", _("Professional services")
    PUBLIC = "public", _("Public sector")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    S1 = "1-9", _("1–9 employees")
    S10 = "10-49", _("10–49 employees")
    S50 = "50-99", _("50–99 employees")
    S100 = "100-299", _("100–299 employees")
    S300 = "300-999", _("300–999 employees")
    S1000 = "1000+", _("1,000+ employees")


class Company(OwnedModel, CustomFieldsModel, NextActionModel, SearchableModel):
    """A company, or a division or site of one (any depth)."""

    access_object_type = "company"

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        DIVISION = "division", _("Division")
        SITE = "site", _("Site")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of ids ("/1/5/23/") for subtree queries.
    path = models.CharField(max_length=255, default="/", editable=False, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    name_reading = models.CharField(_("name reading"), max_length=200, blank=True)
    # The name folded for exact matching (no legal form, width, kana).
    name_key = models.CharField(max_length=200, default="", editable=False, db_index=True)
    corporate_number = models.CharField(
        _("corporate number (法人番号)"),
        max_length=13,
        blank=True,
        db_index=True,
        validators=[validate_corporate_number],
    )
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    prefecture = models.CharField(_("prefecture / province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    domain = models.CharField(_("domain"), max_length=100, blank=True, db_index=True)
    phone = models.CharField(_("main phone"), max_length=20, blank=True, db_index=True)

    class Meta:
        ordering = ["name_reading", "name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["prefecture", "owner"], name="company_pref_owner"),
            models.Index(fields=["owner", "name_reading"], name="company_owner_reading"),
            models.Index(fields=["team"], name="company_team"),
            models.Index(fields=["name_reading", "name", "id"], name="company_sort"),
        ]

    def __str__(self) -> str:
        return self.name

    def search_values(self) -> list[str | None]:
        return [
            self.name,
            self.name_reading,
            self.corporate_number,
            self.domain,
            self.city,
            self.phone.lstrip("+"),
        ]

    @property
    def address(self) -> str:
        parts = [
            self.postal_code and f"〒{self.postal_code}",
            self.prefecture,
            self.city,
            self.street,
            self.building,
        ]
        return " ".join(p for p in parts if p)

    def subtree_q(self) -> models.Q:
        """Matches this company and everything below it."""
        return path_prefix_q(self.path)

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p][:-1]


class Contact(OwnedModel, CustomFieldsModel, NextActionModel, SearchableModel):
    access_object_type = "contact"

    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_reading = models.CharField(_("family name reading"), max_length=100, blank=True)
    given_name_reading = models.CharField(_("given name reading"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company or site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["family_name_reading", "given_name_reading", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["company"], name="contact_company"),
            models.Index(fields=["owner"], name="contact_owner"),
            models.Index(fields=["team"], name="contact_team"),
            models.Index(
                fields=["family_name_reading", "given_name_reading", "id"], name="contact_sort"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def reading(self) -> str:
        return f"{self.family_name_reading} {self.given_name_reading}".strip()

    def search_values(self) -> list[str | None]:
        return [
            self.family_name + self.given_name,
            self.family_name,
            self.given_name,
            self.family_name_reading + self.given_name_reading,
            self.title,
            self.department,
        ]


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(_("e-mail"), db_index=True)
    label = models.CharField(_("label"), max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone (E.164)"), max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.number


class ContactEmployment(models.Model):
    """Where a contact works or has worked; kept when they move."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="employments")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]


class Lead(OwnedModel, CustomFieldsModel, NextActionModel, SearchableModel):
    """An unqualified inquiry, before it becomes a company and a contact."""

    access_object_type = "lead"

    class Channel(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        TRADE_SHOW = "trade_show", _("Trade show")
        REFERRAL = "referral", _("Referral")
        AD = "ad", _("Advertising")
        BUSINESS_CARD = "business_card", _("Business card")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        SEMINAR = "seminar", _("Seminar / webinar")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        WORKING = "working", _("Working")
        QUALIFIED = "qualified", _("Qualified")
        CONVERTED = "converted", _("Converted")
        DISQUALIFIED = "disqualified", _("Disqualified")

    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_reading = models.CharField(_("family name reading"), max_length=100, blank=True)
    given_name_reading = models.CharField(_("given name reading"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    corporate_number = models.CharField(
        _("corporate number (法人番号)"),
        max_length=13,
        blank=True,
        validators=[validate_corporate_number],
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    prefecture = models.CharField(_("prefecture / province"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)
    interest = models.TextField(_("interest"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    converted_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # First-contact SLA (automation.sla): due in business hours from creation.
    first_contact_due_at = models.DateTimeField(
        _("first contact due"), null=True, blank=True, editable=False
    )
    first_contacted_at = models.DateTimeField(
        _("first contacted"), null=True, blank=True, editable=False
    )
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status"),
            models.Index(fields=["owner"], name="lead_owner"),
            models.Index(fields=["team"], name="lead_team"),
            models.Index(fields=["first_contacted_at", "first_contact_due_at"], name="lead_sla"),
            # The dashboards count a period's leads by channel and status.
            models.Index(
                fields=["created_at", "channel", "status", "owner", "team"], name="lead_created"
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.family_name} {self.given_name}".strip()
        return f"{name} ({self.company_name})" if self.company_name else name

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    def search_values(self) -> list[str | None]:
        return [
            self.family_name + self.given_name,
            self.family_name_reading + self.given_name_reading,
            self.company_name,
            self.email,
            self.phone.lstrip("+"),
            self.campaign,
        ]
