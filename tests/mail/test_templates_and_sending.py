"""Templates with merge fields and sending through a real local SMTP server."""

import email
from email import policy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kizuna.activities.models import Activity
from kizuna.automation.models import Notification
from kizuna.mail import rendering
from kizuna.mail.models import EmailMessage, EmailTemplate
from kizuna.mail.services import email_resend, template_create, template_send, template_update
from kizuna.mail.tasks import send_email
from tests.factories import CompanyFactory, ContactFactory, LeadFactory

JA_BODY = (
    "{{ contact.family_name }}様\n\n{{ company.name }}の件でご連絡します。\n{{ user.display_name }}"
)


@pytest.fixture
def template(org):
    return template_create(
        actor=org.admin,
        name="ご挨拶",
        subject_ja="{{ company.name }} {{ contact.family_name }}様へのご挨拶",
        body_ja=JA_BODY,
        subject_ko="{{ contact.family_name }}님께 인사드립니다",
        body_ko="{{ contact.family_name }}님, 안녕하세요.",
        subject_en="Hello {{ contact.given_name }}",
        body_en="Dear {{ contact.full_name }},",
    )


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def contact(org):
    company = CompanyFactory(name="株式会社トヨタ商事", owner=org.rep)
    return ContactFactory(
        family_name="佐藤",
        given_name="花子",
        company=company,
        owner=org.rep,
        email="hanako@toyota.example",
    )


def parse(envelope):
    return email.message_from_bytes(envelope.original_content, policy=policy.default)


def subject(message) -> str:
    # Django folds a long encoded subject onto the next line; unfolded, it
    # starts with a space.
    return message["Subject"].strip()


@pytest.mark.django_db
def test_unknown_merge_field_is_named_and_nothing_is_saved(org):
    with pytest.raises(ValidationError) as exc:
        template_create(
            actor=org.admin,
            name="x",
            subject_ja="{{ contact.family_name }}様",
            body_ja="{{ contact.nickname }} {{ deal.secret|safe }} {% load x %}",
        )
    messages = " ".join(exc.value.message_dict["body_ja"])
    assert "contact.nickname" in messages
    assert "deal.secret|safe" in messages
    assert "{%" in messages
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_only_admins_write_templates(org, template):
    with pytest.raises(PermissionDenied):
        template_create(actor=org.rep, name="y", subject_ja="a", body_ja="b")
    with pytest.raises(PermissionDenied):
        template_update(actor=org.rep, template=template, name="z")


def test_rendering_is_plain_text_and_refuses_the_unknown():
    ctx = rendering.MergeContext(contact=type("C", (), {"family_name": "<b>高橋</b>"})())
    assert rendering.render("{{contact.family_name}}様", ctx) == "<b>高橋</b>様"
    assert rendering.render("{{ deal.name }}", ctx) == ""
    with pytest.raises(ValidationError):
        rendering.render("{{ contact.__class__ }}", ctx)


@pytest.mark.django_db
def test_template_send_in_the_contacts_language_through_smtp(
    org, template, contact, smtp_server, commit
):
    with commit(execute=True):
        activity = template_send(actor=org.rep, template=template, record=contact)

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["hanako@toyota.example"]
    sent = parse(envelope)
    assert subject(sent) == "株式会社トヨタ商事 佐藤様へのご挨拶"
    body = sent.get_content().replace("\r\n", "\n")
    assert "佐藤様" in body and "株式会社トヨタ商事の件" in body and str(org.rep) in body

    activity.refresh_from_db()
    assert activity.kind == Activity.Kind.EMAIL
    assert activity.contact == contact and activity.company == contact.company
    assert activity.subject == subject(sent)
    assert activity.body.strip() == body.strip()
    message = activity.email_message
    assert message.status == EmailMessage.Status.SENT and message.sent_at
    assert message.message_id == sent["Message-ID"]
    assert message.language == "ja" and message.template == template


@pytest.mark.django_db
def test_korean_lead_gets_the_korean_variant(org, template, smtp_server, commit):
    lead = LeadFactory(owner=org.rep, family_name="김", email="kim@hanbit.example")
    with commit(execute=True):
        template_send(actor=org.rep, template=template, record=lead)
    sent = parse(smtp_server.messages[0])
    assert subject(sent) == "김님께 인사드립니다"


@pytest.mark.django_db
def test_refused_mail_stays_on_the_timeline_and_is_retried(
    org, template, contact, smtp_server, commit
):
    smtp_server.refuse = True
    with commit(execute=True):
        activity = template_send(actor=org.rep, template=template, record=contact)
    message = EmailMessage.objects.get(activity=activity)
    assert message.status == EmailMessage.Status.RETRYING
    assert "550" in message.last_error and message.attempts == 1
    assert Activity.objects.filter(pk=activity.pk, body__contains="佐藤様").exists()

    # The last retry fails too: the owner is told, the draft stays.
    send_email.call_local(message.pk)
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED
    assert Notification.objects.filter(recipient=org.rep, kind="mail.failed").exists()

    # The server takes mail again; the user sends it again from the timeline.
    smtp_server.refuse = False
    with commit(execute=True):
        email_resend(actor=org.rep, message=message)
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert parse(smtp_server.messages[0])["Message-ID"] == message.message_id


@pytest.mark.django_db
def test_smtp_timeout_is_recorded(org, template, contact, silent_smtp_server, commit):
    with commit(execute=True):
        activity = template_send(actor=org.rep, template=template, record=contact)
    message = activity.email_message
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.RETRYING
    assert "timed out" in message.last_error.lower() or "timeout" in message.last_error.lower()


@pytest.mark.django_db
def test_sent_mail_is_not_sent_twice(org, template, contact, smtp_server, commit):
    with commit(execute=True):
        activity = template_send(actor=org.rep, template=template, record=contact)
    send_email.call_local(activity.email_message.pk)
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_no_address_and_bad_address_are_refused(org, template, smtp_server, commit):
    contact = ContactFactory(owner=org.rep)
    with pytest.raises(ValidationError) as exc:
        template_send(actor=org.rep, template=template, record=contact)
    assert "to" in exc.value.message_dict
    with pytest.raises(ValidationError):
        template_send(actor=org.rep, template=template, record=contact, to="not an address")
    assert not Activity.objects.filter(kind=Activity.Kind.EMAIL).exists()


@pytest.mark.django_db
def test_outsider_cannot_mail_from_a_record_they_cannot_see(
    org, template, contact, smtp_server, commit
):
    with pytest.raises(PermissionDenied):
        template_send(actor=org.outsider, template=template, record=contact)
    assert not smtp_server.messages
