"""The compose page on a record and the template editor, as a user uses them."""

import pytest

from kizuna.activities.models import Activity
from kizuna.mail.models import EmailMessage, EmailTemplate
from kizuna.mail.services import template_create
from tests.factories import CompanyFactory, ContactFactory


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


@pytest.fixture
def template(org):
    return template_create(
        actor=org.admin,
        name="ご挨拶",
        subject_ja="{{ company.name }}様",
        body_ja="{{ contact.family_name }}様\nいつもお世話になっております。",
    )


@pytest.mark.django_db
def test_compose_fill_and_send(
    client, org, contact, template, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(org.rep)
    page = client.get(f"/contacts/{contact.pk}/")
    assert f"/mail/compose/?contact={contact.pk}" in page.content.decode()

    page = client.get("/mail/compose/", {"contact": contact.pk})
    assert page.status_code == 200
    assert "hanako@toyota.example" in page.content.decode()

    filled = client.post(
        "/mail/compose/fill/",
        {"contact": contact.pk, "template": template.pk, "to": "hanako@toyota.example"},
    )
    body = filled.content.decode()
    assert "株式会社トヨタ商事様" in body and "佐藤様" in body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/mail/compose/",
            {
                "contact": contact.pk,
                "to": "hanako@toyota.example",
                "template": template.pk,
                "subject": "株式会社トヨタ商事様",
                "body": "佐藤様\n少し書き換えました。",
            },
        )
    assert response.status_code == 302
    activity = Activity.objects.get(kind=Activity.Kind.EMAIL)
    assert activity.body == "佐藤様\n少し書き換えました。"
    assert activity.email_message.status == EmailMessage.Status.SENT
    timeline = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "株式会社トヨタ商事様" in timeline


@pytest.mark.django_db
def test_compose_errors_keep_what_was_written(client, org, contact):
    client.force_login(org.rep)
    response = client.post(
        "/mail/compose/",
        {"contact": contact.pk, "to": "nobody", "subject": "件名", "body": "下書きの本文"},
    )
    assert response.status_code == 422
    assert "下書きの本文" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_outsider_cannot_compose_on_a_hidden_record(client, org, contact):
    client.force_login(org.outsider)
    assert client.get("/mail/compose/", {"contact": contact.pk}).status_code == 404
    assert client.post("/mail/compose/fill/", {"contact": contact.pk}).status_code == 404


@pytest.mark.django_db
def test_template_editor_previews_and_names_unknown_fields(client, org):
    client.force_login(org.admin)
    preview = client.post(
        "/settings/mail/templates/preview/",
        {"subject_ja": "{{ contact.family_name }}様", "body_ja": "{{ contact.nickname }}"},
    )
    assert "contact.nickname" in preview.content.decode()
    response = client.post(
        "/settings/mail/templates/new/",
        {
            "name": "n",
            "subject_ja": "{{ contact.family_name }}様",
            "body_ja": "{{ contact.nickname }}",
            "is_active": "on",
        },
    )
    assert response.status_code == 422
    assert "contact.nickname" in response.content.decode()
    response = client.post(
        "/settings/mail/templates/new/",
        {
            "name": "n",
            "subject_ja": "{{ contact.family_name }}様",
            "body_ja": "本文",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert EmailTemplate.objects.get(name="n").languages == ["ja"]
    client.force_login(org.rep)
    assert client.get("/settings/mail/templates/").status_code == 403
