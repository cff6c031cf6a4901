import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from kizuna.activities.models import Activity
from kizuna.core.models import AuditEntry
from kizuna.core.services import customfield_create, share_create
from kizuna.customers.models import Company, Contact
from kizuna.customers.services import company_create, company_update, contact_create, lead_create
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, LeadFactory


@pytest.fixture
def rep_client(client, org):
    client.force_login(org.rep)
    return client


@pytest.mark.django_db
def test_login_and_failed_login_are_audited(client, org):
    response = client.post(reverse("iam:login"), {"username": "rep", "password": "wrong"})
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="login_failed", object_repr="rep").exists()
    response = client.post(reverse("iam:login"), {"username": "rep", "password": "pw-kizuna-123"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="login")
    assert entry.actor == org.rep and entry.ip == "127.0.0.1" and entry.request_id


@pytest.mark.django_db
def test_pages_require_login(client):
    response = client.get(reverse("customers:company_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("iam:login"))


@pytest.mark.django_db
def test_create_company_form_keeps_input_and_shows_field_errors_in_japanese(rep_client, org):
    org.rep.language = "ja"
    org.rep.save()
    data = {
        "name": "",
        "corporate_number": "1234567890123",
        "kind": "company",
        "phone": "03-1234-5678",
        "city": "千代田区",
    }
    response = rep_client.post(reverse("customers:company_create"), data)
    assert response.status_code == 422
    form = response.context["form"]
    with translation.override("ja"):
        assert form.errors["name"] == [gettext("This field is required.")]
    assert form.errors["name"] != ["This field is required."]
    assert "千代田区" in response.content.decode()
    data["name"] = "株式会社テスト"
    response = rep_client.post(reverse("customers:company_create"), data)
    assert "corporate_number" in response.context["form"].errors
    assert "株式会社テスト" in response.content.decode()
    assert Company.objects.count() == 0
    data["corporate_number"] = "7000012050002"
    response = rep_client.post(reverse("customers:company_create"), data)
    company = Company.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:company_detail", args=[company.pk])
    assert company.owner == org.rep and company.team == org.tokyo
    assert company.phone == "+81312345678"


@pytest.mark.django_db
def test_add_contact_with_reading_and_custom_field(rep_client, org):
    customfield_create(
        actor=org.admin,
        object_type="contact",
        key="hobby",
        label="Hobby",
        label_ja="趣味",
        field_type="text",
    )
    company = CompanyFactory(owner=org.rep)
    response = rep_client.post(
        reverse("customers:contact_create"),
        {
            "family_name": "佐藤",
            "given_name": "太郎",
            "family_name_reading": "サトウ",
            "given_name_reading": "タロウ",
            "company": company.pk,
            "emails": "taro@example.jp\ntaro2@example.jp",
            "phones": "03-1111-2222",
            "cf_hobby": "ゴルフ",
            "tags": "VIP, 展示会",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    contact = Contact.objects.get()
    assert contact.custom_field_data == {"hobby": "ゴルフ"}
    assert sorted(t.name for t in contact.tags.all()) == ["VIP", "展示会"]
    page = rep_client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "サトウ タロウ" in page and "ゴルフ" in page


@pytest.mark.django_db
def test_edit_with_stale_version_is_refused_and_keeps_input(rep_client, org):
    company = company_create(actor=org.rep, name="元の名前")
    url = reverse("customers:company_edit", args=[company.pk])
    base = {"name": "私の変更", "kind": "company", "version": 1}
    # A colleague saves first.
    company_update(actor=org.colleague, company=company, name="同僚の変更")
    response = rep_client.post(url, base)
    assert response.status_code == 422
    assert "私の変更" in response.content.decode()
    assert Company.objects.get().name == "同僚の変更"


@pytest.mark.django_db
def test_log_a_call_from_a_contact_with_next_action(rep_client, org):
    company = CompanyFactory(owner=org.rep)
    contact = ContactFactory(owner=org.rep, company=company)
    url = reverse("activities:activity_create") + f"?contact={contact.pk}&kind=call"
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(
        url,
        {
            "kind": "call",
            "subject": "見積の確認",
            "occurred_at": "2026-11-20T10:30",
            "contact": contact.pk,
            "company": company.pk,
            "body": "来週再訪",
            "next_action": "再訪問",
            "next_action_due": "2026-11-27",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    call = Activity.objects.get()
    assert call.company == company
    contact.refresh_from_db()
    assert contact.next_action == "再訪問"
    page = rep_client.get(reverse("customers:company_detail", args=[company.pk]))
    assert "見積の確認" in page.content.decode()


@pytest.mark.django_db
def test_company_timeline_covers_subtree_filters_and_paginates(rep_client, org):
    parent = CompanyFactory(owner=org.rep)
    site = CompanyFactory(owner=org.rep, parent=parent, kind="site")
    person = ContactFactory(owner=org.rep, company=site)
    ActivityFactory(owner=org.rep, company=parent, subject="本社訪問", kind="visit")
    for i in range(30):
        ActivityFactory(owner=org.rep, contact=person, subject=f"電話{i:02d}")
    url = reverse("customers:company_detail", args=[parent.pk])
    response = rep_client.get(url)
    assert len(response.context["timeline"].object_list) == 25
    response = rep_client.get(
        url + "?kind=visit", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    )
    body = response.content.decode()
    assert "本社訪問" in body and "電話" not in body and "<html" not in body


@pytest.mark.django_db
def test_list_search_finds_japanese_and_korean_substrings(rep_client, org):
    CompanyFactory(name="株式会社トヨタ商事", owner=org.rep)
    CompanyFactory(name="주식회사 한빛소프트", owner=org.rep)
    CompanyFactory(name="関係ない会社", owner=org.rep)

    def names(q):
        response = rep_client.get(reverse("customers:company_list"), {"q": q})
        return {row[0].name for row in response.context["rows"]}

    assert names("ヨタ") == {"株式会社トヨタ商事"}
    assert names("ﾄﾖﾀ") == {"株式会社トヨタ商事"}
    assert names("한빛") == {"주식회사 한빛소프트"}
    response = rep_client.get(reverse("core:search"), {"q": "商事"}, HTTP_HX_REQUEST="true")
    assert "株式会社トヨタ商事" in response.content.decode()


@pytest.mark.django_db
def test_list_filters_sorting_and_bad_filter_values(rep_client, org):
    CompanyFactory(name="東京A", prefecture="東京都", owner=org.rep)
    CompanyFactory(name="大阪B", prefecture="大阪府", owner=org.rep)
    url = reverse("customers:company_list")
    response = rep_client.get(url, {"prefecture": "大阪府", "owner": org.rep.pk})
    assert [r[0].name for r in response.context["rows"]] == ["大阪B"]
    response = rep_client.get(url, {"owner": "abc", "ordering": "bogus", "page": "x"})
    assert response.status_code == 200
    assert response.context["filter_form"].errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name, factory",
    [
        ("customers:company_list", lambda o: CompanyFactory(owner=o)),
        ("customers:contact_list", lambda o: ContactFactory(owner=o, email="x@example.jp")),
        ("customers:lead_list", lambda o: LeadFactory(owner=o)),
        ("activities:activity_list", lambda o: ActivityFactory(owner=o)),
    ],
)
def test_list_pages_do_not_grow_queries_with_rows(
    rep_client, org, url_name, factory, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factory(org.rep)
    with CaptureQueriesContext(connection) as few:
        rep_client.get(reverse(url_name))
    for _ in range(20):
        factory(org.rep)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rep_client.get(reverse(url_name))


@pytest.mark.django_db
def test_csv_export_honours_access_neutralises_formulas_and_is_audited(rep_client, org):
    CompanyFactory(name='=HYPERLINK("http://evil")', owner=org.rep)
    CompanyFactory(name="見えない会社", owner=org.outsider)
    response = rep_client.get(reverse("customers:company_list"), {"export": "csv"})
    data = response.content.decode("utf-8")
    assert data.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert "Corporate number" in rows[0]  # export-only columns are in the file
    assert rows[1][0].startswith("'=")
    assert "見えない会社" not in data
    entry = AuditEntry.objects.get(action="export")
    assert entry.changes["rows"] == 1


@pytest.mark.django_db
def test_history_tab_and_admin_audit_view(rep_client, client, org):
    company = company_create(actor=org.rep, name="履歴テスト")
    response = rep_client.get(reverse("customers:company_history", args=[company.pk]))
    assert "履歴テスト" in response.content.decode()
    assert rep_client.get(reverse("core:audit_log")).status_code == 403
    client.force_login(org.admin)
    assert "履歴テスト" in client.get(reverse("core:audit_log")).content.decode()


@pytest.mark.django_db
def test_language_and_time_zone_per_user(rep_client, org):
    response = rep_client.post(
        reverse("iam:profile"), {"language": "ko", "timezone": "Asia/Seoul"}, follow=True
    )
    assert response.status_code == 200
    org.rep.refresh_from_db()
    assert (org.rep.language, org.rep.timezone) == ("ko", "Asia/Seoul")
    assert '<html lang="ko">' in rep_client.get(reverse("core:home")).content.decode()


@pytest.mark.django_db
def test_lead_convert_from_the_page(rep_client, org):
    contact = contact_create(actor=org.rep, family_name="金", emails=["kim@hanbit.example"])
    lead = lead_create(
        actor=org.rep, family_name="金", email="kim@hanbit.example", channel="web_form"
    )
    page = rep_client.get(reverse("customers:lead_detail", args=[lead.pk])).content.decode()
    assert "kim@hanbit.example" in page
    response = rep_client.post(reverse("customers:lead_convert", args=[lead.pk]))
    assert response["Location"] == reverse("customers:contact_detail", args=[contact.pk])
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_delete_refuses_a_company_with_people_and_audits_a_deleted_contact(rep_client, org):
    company = company_create(actor=org.rep, name="削除テスト")
    contact = contact_create(actor=org.rep, family_name="削除", company=company)
    response = rep_client.post(reverse("customers:company_delete", args=[company.pk]))
    assert response["Location"] == reverse("customers:company_detail", args=[company.pk])
    assert Company.objects.filter(pk=company.pk).exists()
    rep_client.post(reverse("customers:contact_delete", args=[contact.pk]))
    assert not Contact.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_type="contact").exists()
    response = rep_client.post(reverse("customers:company_delete", args=[company.pk]))
    assert response["Location"] == reverse("customers:company_list")


@pytest.mark.django_db
def test_record_picker_finds_visible_records_by_substring(rep_client, org):
    company = CompanyFactory(name="株式会社さくら物産", owner=org.rep)
    response = rep_client.get(reverse("customers:company_pick"), {"q": "物産"})
    assert f'data-pick-id="{company.pk}"' in response.content.decode()
    assert rep_client.get(reverse("customers:company_pick"), {"q": ""}).content.strip() == b""


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["company", "contact", "lead"])
def test_record_pages_offer_edit_history_delete_only_to_editors(client, org, kind):
    obj = {
        "company": lambda: company_create(actor=org.rep, name="ボタン確認"),
        "contact": lambda: contact_create(actor=org.rep, family_name="ボタン確認"),
        "lead": lambda: lead_create(actor=org.rep, family_name="ボタン確認", channel="ad"),
    }[kind]()
    client.force_login(org.rep)
    page = client.get(reverse(f"customers:{kind}_detail", args=[obj.pk])).content.decode()
    for action in ("edit", "history", "delete"):
        assert reverse(f"customers:{kind}_{action}", args=[obj.pk]) in page
    assert "ボタン確認" in page
    share_create(actor=org.rep, obj=obj, user=org.outsider)
    client.force_login(org.outsider)
    page = client.get(reverse(f"customers:{kind}_detail", args=[obj.pk])).content.decode()
    assert reverse(f"customers:{kind}_history", args=[obj.pk]) in page
    assert reverse(f"customers:{kind}_edit", args=[obj.pk]) not in page


@pytest.mark.django_db
def test_log_a_meeting_with_participants(rep_client, org):
    company = CompanyFactory(owner=org.rep)
    a = ContactFactory(owner=org.rep, company=company, family_name="参加")
    ContactFactory(owner=org.rep, company=company, family_name="不参加")
    url = reverse("activities:activity_create") + f"?company={company.pk}&kind=meeting"
    response = rep_client.post(
        url,
        {
            "kind": "meeting",
            "subject": "定例会議",
            "occurred_at": "2026-11-20T14:00",
            "company": company.pk,
            "participants": [a.pk],
            "participant_users": [org.colleague.pk],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    meeting = Activity.objects.get()
    assert list(meeting.participants.all()) == [a]
    assert list(meeting.participant_users.all()) == [org.colleague]


@pytest.mark.django_db
def test_share_a_record_from_its_page(rep_client, client, org):
    company = company_create(actor=org.rep, name="共有テスト")
    url = reverse("core:share", args=["company", company.pk])
    partial = rep_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'value="user:{org.outsider.pk}"' in partial and "<html" not in partial
    rep_client.post(url, {"grantee": f"user:{org.outsider.pk}"})
    client.force_login(org.outsider)
    assert client.get(reverse("customers:company_detail", args=[company.pk])).status_code == 200
    assert client.get(url).status_code == 403  # a reader may not share further
