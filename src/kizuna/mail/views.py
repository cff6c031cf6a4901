from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.core import access
from kizuna.mail import rendering, services
from kizuna.mail.forms import (
    ComposeForm,
    DigestPreferenceForm,
    MailSettingsForm,
    TemplateForm,
)
from kizuna.mail.models import DigestPreference, EmailMessage, EmailTemplate, IncomingMail

RECORD_KINDS = ("contact", "lead", "deal", "company")


def _form_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _record_from_query(request):
    """The record named by ?contact= / ?lead= / ?deal= / ?company=, if visible."""
    from kizuna.customers import selectors as customer_selectors
    from kizuna.sales import selectors as sales_selectors

    details = {
        "contact": customer_selectors.contact_detail,
        "lead": customer_selectors.lead_detail,
        "deal": sales_selectors.deal_detail,
        "company": customer_selectors.company_detail,
    }
    for key in RECORD_KINDS:
        value = request.GET.get(key) or request.POST.get(key)
        if value and value.isdigit():
            return key, details[key](user=request.user, pk=int(value))
    return None, None


def _record_url(kind: str, record) -> str:
    if kind == "deal":
        return reverse("sales:deal_detail", args=[record.pk])
    return reverse(f"customers:{kind}_detail", args=[record.pk])


@login_required
@require_http_methods(["GET", "POST"])
def compose(request):
    kind, record = _record_from_query(request)
    if record is None:
        return render(request, "mail/no_record.html")
    back = _record_url(kind, record)
    data = request.POST if request.method == "POST" else None
    form = ComposeForm(data, initial={"to": ", ".join(services.default_recipients(record))})
    if data is not None and form.is_valid():
        cd = form.cleaned_data
        try:
            services.email_send(
                actor=request.user,
                record=record,
                to=cd["to"],
                cc=cd["cc"] or None,
                subject=cd["subject"],
                body=cd["body"],
                template=cd["template"],
                language=cd["language"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The e-mail is on its way; its state shows on the timeline.")
            )
            return redirect(back)
    return render(
        request,
        "mail/compose.html",
        {"form": form, "record": record, "kind": kind, "back_url": back},
        status=422 if data is not None else 200,
    )


@login_required
@require_POST
def compose_fill(request):
    """htmx: the subject and body of the chosen template, merged for the record."""
    kind, record = _record_from_query(request)
    if record is None:
        return render(request, "mail/no_record.html")
    form = ComposeForm(request.POST)
    form.is_valid()
    template = form.cleaned_data.get("template")
    subject, body, language, error = request.POST.get("subject", ""), "", "", ""
    body = request.POST.get("body", "")
    if template is not None:
        try:
            language, subject, body = services.template_render(
                actor=request.user,
                template=template,
                record=record,
                to=form.cleaned_data.get("to") or "",
                language=form.cleaned_data.get("language") or "",
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "mail/compose.html#fields",
        # An unbound form: the fields are being filled in, not submitted.
        {
            "form": ComposeForm(),
            "subject": subject,
            "body": body,
            "language": language,
            "error": error,
        },
    )


@login_required
@require_POST
def message_resend(request, pk: int):
    message = get_object_or_404(EmailMessage.objects.select_related("activity"), pk=pk)
    if not access.can_view(request.user, message.activity):
        raise Http404
    try:
        services.email_resend(actor=request.user, message=message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The e-mail is queued again."))
    return redirect(reverse("activities:activity_detail", args=[message.activity_id]))


# -- templates (admins) ------------------------------------------------------


@login_required
def template_list(request):
    access.require_admin(request.user, access.ADMIN_PAGE)
    return render(request, "mail/template_list.html", {"templates": EmailTemplate.objects.all()})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int | None = None):
    access.require_admin(request.user, access.ADMIN_PAGE)
    template = get_object_or_404(EmailTemplate, pk=pk) if pk else None
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if template is None:
                template = services.template_create(actor=request.user, **fields)
            else:
                template = services.template_update(actor=request.user, template=template, **fields)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("mail:template_list")
    return render(
        request,
        "mail/template_form.html",
        {
            "form": form,
            "template": template,
            "merge_fields": rendering.field_names(),
            "preview": _preview(form.data or form.initial),
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def template_delete(request, pk: int):
    access.require_admin(request.user, access.ADMIN_PAGE)
    template = get_object_or_404(EmailTemplate, pk=pk)
    services.template_delete(actor=request.user, template=template)
    messages.success(request, _("Deleted."))
    return redirect("mail:template_list")


def _preview(data) -> list[dict[str, str]]:
    ctx = rendering.sample_context()
    out = []
    for lang, label in (("ja", "日本語"), ("ko", "한국어"), ("en", "English")):
        subject = str(data.get(f"subject_{lang}") or "")
        body = str(data.get(f"body_{lang}") or "")
        if not subject and not body:
            continue
        unknown = rendering.unknown_fields(subject + "\n" + body)
        if unknown:
            out.append({"label": label, "error": ", ".join(unknown)})
        else:
            out.append(
                {
                    "label": label,
                    "subject": rendering.render(subject, ctx),
                    "body": rendering.render(body, ctx),
                }
            )
    return out


@login_required
@require_POST
def template_preview(request):
    """htmx: the template merged with a sample customer, as the editor types."""
    access.require_admin(request.user, access.ADMIN_PAGE)
    return render(request, "mail/template_form.html#preview", {"preview": _preview(request.POST)})


# -- incoming mail -----------------------------------------------------------


@csrf_exempt
@require_POST
def inbound(request, token: str):
    """A mail relay posts one raw RFC 822 message here (secret address)."""
    from kizuna.mail.incoming import mail_receive, token_ok

    if not token_ok(token):
        raise Http404
    try:
        raw = request.body
    except RequestDataTooBig:
        return JsonResponse({"detail": "too large"}, status=413)
    if not raw.strip():
        return JsonResponse({"detail": "empty body"}, status=400)
    log = mail_receive(raw=raw, source=IncomingMail.Source.FORWARD)
    return JsonResponse(
        {"outcome": log.outcome, "reason": log.reason, "id": log.pk},
        status=202,
    )


@login_required
@require_http_methods(["GET", "POST"])
def digest_preferences(request):
    pref = DigestPreference.objects.filter(user=request.user).first() or DigestPreference(
        user=request.user
    )
    form = DigestPreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        services.digest_preference_update(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("mail:digest_preferences")
    return render(request, "mail/digest_preferences.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def incoming_settings(request):
    """Incoming-mail rules and the log of what arrived and what became of it."""
    from django.conf import settings

    from kizuna.core import ui
    from kizuna.mail.incoming import mail_settings

    access.require_admin(request.user, access.ADMIN_PAGE)
    conf = mail_settings()
    form = MailSettingsForm(request.POST or None, instance=conf)
    if request.method == "POST" and form.is_valid():
        try:
            services.mail_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("mail:incoming_settings")
    log = IncomingMail.objects.select_related("activity").defer("raw")
    outcome = request.GET.get("outcome")
    if outcome in IncomingMail.Outcome.values:
        log = log.filter(outcome=outcome)
    token = settings.KIZUNA_MAIL_INBOUND_TOKEN
    return render(
        request,
        "mail/incoming_settings.html",
        {
            "form": form,
            "page": ui.paginate(request, log),
            "outcomes": IncomingMail.Outcome.choices,
            "outcome": outcome,
            "imap_host": settings.KIZUNA_IMAP_HOST,
            "imap_user": settings.KIZUNA_IMAP_USER,
            "imap_folder": settings.KIZUNA_IMAP_FOLDER,
            "forward_url": (
                request.build_absolute_uri(reverse("mail:inbound", args=["…"])) if token else ""
            ),
        },
        status=422 if request.method == "POST" else 200,
    )
