import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kizuna.activities.services import activity_create
from kizuna.core.models import AuditEntry
from kizuna.core.records import ConflictError
from kizuna.core.services import customfield_create
from kizuna.customers.models import Company, Contact, ContactEmployment, Lead
from kizuna.customers.services import (
    company_create,
    company_update,
    contact_create,
    contact_update,
    lead_convert,
    lead_create,
)


@pytest.mark.django_db
def test_company_hierarchy_any_depth_and_moves(org):
    group = company_create(actor=org.rep, name="山田ホールディングス株式会社")
    division = company_create(actor=org.rep, name="物流事業部", parent=group)
    site = company_create(actor=org.rep, name="横浜倉庫", parent=division, kind="site")
    assert division.kind == "division"
    assert site.path == f"/{group.pk}/{division.pk}/{site.pk}/"
    other = company_create(actor=org.rep, name="別会社")
    company_update(actor=org.rep, company=division, parent=other)
    site.refresh_from_db()
    assert site.path == f"/{other.pk}/{division.pk}/{site.pk}/"
    with pytest.raises(ValidationError) as exc:
        company_update(actor=org.rep, company=other, parent=site)
    assert "parent" in exc.value.message_dict


@pytest.mark.django_db
def test_company_validation_is_field_level_and_writes_nothing(org):
    with translation.override("ja"), pytest.raises(ValidationError) as exc:
        company_create(
            actor=org.rep,
            name="",
            corporate_number="1234567890123",
            phone="abc",
            website="not a url",
        )
    errors = exc.value.message_dict
    assert set(errors) >= {"name", "corporate_number", "phone", "website"}
    assert "法人番号" in errors["corporate_number"][0]
    assert Company.objects.count() == 0
    assert AuditEntry.objects.filter(action="create").count() == 0


@pytest.mark.django_db
def test_update_audits_before_and_after_and_refuses_stale_version(org):
    company = company_create(actor=org.rep, name="旧社名株式会社", prefecture="東京都")
    company = company_update(actor=org.rep, company=company, version=1, name="新社名株式会社")
    assert company.version == 2
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes["name"] == ["旧社名株式会社", "新社名株式会社"]
    assert entry.actor == org.rep
    with pytest.raises(ConflictError):
        company_update(actor=org.rep, company=company, version=1, name="遅い編集")
    assert Company.objects.get().name == "新社名株式会社"


@pytest.mark.django_db
def test_outsider_cannot_edit(org):
    company = company_create(actor=org.rep, name="テスト")
    with pytest.raises(PermissionDenied):
        company_update(actor=org.outsider, company=company, name="乗っ取り")


@pytest.mark.django_db
def test_contact_channels_e164_and_past_companies(org):
    a = company_create(actor=org.rep, name="A社")
    b = company_create(actor=org.rep, name="B社")
    contact = contact_create(
        actor=org.rep,
        family_name="田中",
        given_name="花子",
        family_name_reading="タナカ",
        given_name_reading="ハナコ",
        company=a,
        emails=["Hanako@Example.JP", "hanako@example.jp", "h.tanaka@private.example"],
        phones=["090-1111-2222"],
    )
    assert [e.email for e in contact.emails.all()] == [
        "Hanako@example.jp",
        "h.tanaka@private.example",
    ]
    assert contact.phones.get().number == "+819011112222"
    contact_update(actor=org.rep, contact=contact, company=b)
    history = ContactEmployment.objects.filter(contact=contact).order_by("id")
    assert [(h.company_id, h.ended_on is None) for h in history] == [(a.pk, False), (b.pk, True)]
    with pytest.raises(ValidationError) as exc:
        contact_update(actor=org.rep, contact=contact, emails=["not-an-email"])
    assert "emails" in exc.value.message_dict
    assert contact.emails.count() == 2  # nothing half-written


@pytest.mark.django_db
def test_custom_fields_are_validated_on_write(org):
    customfield_create(
        actor=org.admin,
        object_type="company",
        key="deal_type",
        label="Deal type",
        field_type="select",
        choices=["直販", "代理店"],
        required=True,
    )
    customfield_create(
        actor=org.admin,
        object_type="company",
        key="budget",
        label="Budget",
        field_type="money",
        currency="JPY",
    )
    with pytest.raises(ValidationError) as exc:
        company_create(actor=org.rep, name="X", custom_fields={"budget": "12.5", "nope": 1})
    errors = exc.value.message_dict
    assert set(errors) == {"custom_fields.deal_type", "custom_fields.budget", "custom_fields.nope"}
    company = company_create(
        actor=org.rep, name="X", custom_fields={"deal_type": "直販", "budget": "1,200,000"}
    )
    assert company.custom_field_data == {"deal_type": "直販", "budget": "1200000"}


@pytest.mark.django_db
def test_lead_conversion_links_existing_records_instead_of_copying(org):
    company = company_create(
        actor=org.rep, name="株式会社ハンビット", corporate_number="7000012050002"
    )
    existing = contact_create(
        actor=org.rep,
        family_name="金",
        given_name="민준",
        company=company,
        emails=["minjun@hanbit.example"],
    )
    by_email = lead_create(
        actor=org.rep,
        family_name="金",
        given_name="民俊",
        company_name="ハンビット",
        email="MinJun@HANBIT.example",
        channel="trade_show",
    )
    result = lead_convert(actor=org.rep, lead=by_email)
    assert result.contact == existing and not result.contact_created
    assert result.company == company and not result.company_created

    by_number = lead_create(
        actor=org.rep,
        family_name="朴",
        company_name="ハンビット㈱",
        corporate_number="7000012050002",
        channel="web_form",
    )
    result = lead_convert(actor=org.rep, lead=by_number)
    assert result.company == company and result.contact_created
    assert Company.objects.count() == 1

    by_phone = lead_create(
        actor=org.rep,
        family_name="李",
        phone="03-5555-0000",
        channel="phone",
        company_name="新規株式会社",
    )
    contact_update(actor=org.rep, contact=existing, phones=["0355550000"])
    result = lead_convert(actor=org.rep, lead=by_phone)
    assert result.contact == existing
    assert Contact.objects.count() == 2
    with pytest.raises(ValidationError):
        lead_convert(actor=org.rep, lead=by_phone)
    assert Lead.objects.filter(status="converted").count() == 3


@pytest.mark.django_db
def test_lead_activities_follow_the_conversion(org):
    lead = lead_create(actor=org.rep, family_name="鈴木", company_name="鈴木工業", channel="ad")
    call = activity_create(actor=org.rep, kind="call", subject="問い合わせ対応", lead=lead)
    result = lead_convert(actor=org.rep, lead=lead)
    call.refresh_from_db()
    assert call.contact == result.contact and call.company == result.company


@pytest.mark.django_db
def test_logging_a_call_sets_the_next_action(org):
    company = company_create(actor=org.rep, name="次回テスト")
    contact = contact_create(actor=org.rep, family_name="山本", company=company)
    due = datetime.date(2026, 12, 1)
    call = activity_create(
        actor=org.rep,
        kind="call",
        subject="電話",
        contact=contact,
        next_action="見積を送る",
        next_action_due=due,
    )
    contact.refresh_from_db()
    assert (contact.next_action, contact.next_action_due) == ("見積を送る", due)
    assert call.company == company


@pytest.mark.django_db
def test_activity_must_be_about_a_visible_record(org):
    hidden = company_create(actor=org.outsider, name="見えない会社")
    with pytest.raises(ValidationError) as exc:
        activity_create(actor=org.rep, kind="call", subject="x", company=hidden)
    assert "company" in exc.value.message_dict
    with pytest.raises(ValidationError):
        activity_create(actor=org.rep, kind="call", subject="誰とも")
    task = activity_create(actor=org.rep, kind="task", subject="自分のタスク")
    assert task.assignee == org.rep
