"""Base models and the tables that every domain shares."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.text import search_grams


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimeStampedModel):
    """A record with an owner and a team, governed by ``core.access``.

    ``access_object_type`` names the record's type in access policies, shares,
    custom field definitions and the audit log.
    """

    access_object_type: str = ""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        "iam.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # Incremented on every write; a stale write is refused (optimistic
    # concurrency for the API and the edit forms).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class CustomFieldsModel(models.Model):
    """Provides custom field values, validated against ``CustomFieldDefinition``."""

    custom_field_data = models.JSONField(_("custom fields"), default=dict, blank=True)
    tags = models.ManyToManyField("core.Tag", verbose_name=_("tags"), blank=True, related_name="+")

    class Meta:
        abstract = True


class NextActionModel(models.Model):
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    next_action_due = models.DateField(_("next action due"), null=True, blank=True)

    class Meta:
        abstract = True


class SearchableModel(models.Model):
    """Provides substring search over Japanese, Korean and Latin text.

    ``search_index`` holds bigrams (see ``core.text.search_grams``); an FTS5
    table on SQLite and a GIN index on PostgreSQL make it fast.
    """

    search_index = models.TextField(default="", blank=True, editable=False)

    class Meta:
        abstract = True

    def search_values(self) -> list[str | None]:
        raise NotImplementedError

    def refresh_search_index(self, *extra: str | None) -> None:
        self.search_index = search_grams(*self.search_values(), *extra)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class ObjectType(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")
    LEAD = "lead", _("Lead")
    ACTIVITY = "activity", _("Activity")
    DEAL = "deal", _("Deal")


class AccessLevel(models.TextChoices):
    PRIVATE = "private", _("Private: owner and their managers")
    TEAM = "team", _("Team: the owner's team")
    READ_ALL = "read_all", _("Everyone can read")
    EDIT_ALL = "edit_all", _("Everyone can edit")


class AccessPolicy(models.Model):
    """The org-wide default visibility of one object type."""

    object_type = models.CharField(
        _("object type"), max_length=30, choices=ObjectType.choices, unique=True
    )
    level = models.CharField(
        _("default access"), max_length=20, choices=AccessLevel.choices, default=AccessLevel.TEAM
    )

    class Meta:
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")

    def __str__(self) -> str:
        return f"{self.object_type}: {self.level}"


class Share(models.Model):
    """An explicit grant of one record to a user or a team."""

    object_type = models.CharField(max_length=30, choices=ObjectType.choices)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "iam.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    can_edit = models.BooleanField(_("can edit"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(team__isnull=False),
                name="share_has_grantee",
            )
        ]


class OrgSettings(models.Model):
    """Org-wide settings; there is one row (pk=1)."""

    name = models.CharField(_("organisation name"), max_length=200, default="Kizuna")
    default_region = models.CharField(_("default phone region"), max_length=2, default="JP")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year starts in month"), default=4
    )

    class Meta:
        verbose_name = _("organisation settings")

    @classmethod
    def get(cls) -> "OrgSettings":
        obj, _created = cls.objects.get_or_create(
            pk=1, defaults={"default_region": settings.KIZUNA_DEFAULT_REGION}
        )
        return obj


class AuditEntry(models.Model):
    """One line of the append-only audit log."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logged out")
        EXPORT = "export", _("exported")
        CONVERT = "convert", _("converted")
        SHARE = "share", _("shared")
        PERMISSION = "permission", _("changed permissions")
        TOKEN = "token", _("API token")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=30, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("The audit log is append-only.")


class CustomFieldDefinition(models.Model):
    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        SELECT = "select", _("Select")
        MULTI_SELECT = "multi_select", _("Multi-select")
        CHECKBOX = "checkbox", _("Checkbox")
        USER = "user", _("User")

    object_type = models.CharField(_("object type"), max_length=30, choices=ObjectType.choices)
    key = models.SlugField(
        _("key"),
        max_length=50,
        help_text=_("Letters, digits and underscores; used in the API and exports."),
    )
    label = models.CharField(_("label"), max_length=100)
    label_ja = models.CharField(_("label (日本語)"), max_length=100, blank=True)
    label_ko = models.CharField(_("label (한국어)"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For select and multi-select.")
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="JPY")
    required = models.BooleanField(_("required"), default=False)
    show_in_list = models.BooleanField(_("show in lists"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "key"], name="custom_field_unique_key")
        ]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.display_label()

    def display_label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        language = (language or get_language() or "en")[:2]
        return {"ja": self.label_ja, "ko": self.label_ko}.get(language) or self.label


class IdempotencyKey(models.Model):
    """A create that has already been answered, replayed for a repeated key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key", "endpoint"], name="idempotency_key_unique"
            )
        ]
