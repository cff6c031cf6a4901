from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.mail.models import LANGUAGES, DigestPreference, EmailTemplate, MailSettings

LANGUAGE_CHOICES = [
    ("", _("The customer's language")),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("en", "English"),
]


class ComposeForm(forms.Form):
    to = forms.CharField(label=_("To"), max_length=1000)
    cc = forms.CharField(label=_("Cc"), max_length=1000, required=False)
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=EmailTemplate.objects.filter(is_active=True),
        required=False,
        empty_label=_("Free text"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 14}))


class TemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = [
            "name",
            "description",
            *[f"{part}_{lang}" for lang in LANGUAGES for part in ("subject", "body")],
            "is_active",
        ]
        widgets = {f"body_{lang}": forms.Textarea(attrs={"rows": 8}) for lang in LANGUAGES}


class DigestPreferenceForm(forms.ModelForm):
    class Meta:
        model = DigestPreference
        fields = [
            "enabled",
            "follow_ups",
            "overdue_tasks",
            "stalled_deals",
            "breached_slas",
            "notifications",
        ]


class MailSettingsForm(forms.ModelForm):
    class Meta:
        model = MailSettings
        fields = ["create_leads", "free_mail", "free_mail_domains", "blocked_senders", "lead_owner"]
        widgets = {
            "free_mail_domains": forms.Textarea(attrs={"rows": 4}),
            "blocked_senders": forms.Textarea(attrs={"rows": 3}),
        }
