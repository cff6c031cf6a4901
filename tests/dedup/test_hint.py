"""The "this looks like …" hint on the create forms."""

import pytest

from kizuna.customers import services as customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def sato(org):
    abc = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ", phone="03-1111-2222")
    return customers.contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["taro@abc.co.jp"],
        phones=["090-1234-5678"],
    )


def _hint(client, entity, **params):
    response = client.get("/duplicates/hint/", {"entity": entity, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_contact_hint_names_the_record_and_links_it(client, org, sato):
    client.force_login(org.rep)
    body = _hint(client, "contact", family_name="ｻﾄｳ", given_name="ﾀﾛｳ", emails="TARO@abc.co.jp\n")
    assert "Is this 佐藤 太郎 at 株式会社ＡＢＣ?" in body
    assert f'href="/contacts/{sato.pk}/"' in body
    assert "e-mail same" in body


def test_hint_in_japanese(client, org, sato):
    client.force_login(org.rep)
    body = _hint(
        client,
        "contact",
        family_name="佐藤",
        given_name="太郎",
        emails="taro@abc.co.jp",
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert "佐藤 太郎" in body


def test_no_candidate_renders_nothing(client, org, sato):
    client.force_login(org.rep)
    assert _hint(client, "contact", family_name="山田", given_name="花子").strip() == ""
    assert _hint(client, "contact").strip() == ""


def test_hint_shows_only_records_the_user_may_see(client, org, sato):
    client.force_login(org.outsider)
    body = _hint(client, "contact", family_name="佐藤", given_name="太郎", emails="taro@abc.co.jp")
    assert body.strip() == ""


def test_company_and_lead_hints(client, org, sato):
    customers.lead_create(
        actor=org.rep,
        family_name="鈴木",
        given_name="一郎",
        company_name="(株)XYZ",
        email="ichiro@xyz.co.jp",
        channel="web_form",
    )
    client.force_login(org.rep)
    body = _hint(client, "company", name="(株)ABC")
    assert "Is this 株式会社ＡＢＣ, already in Kizuna?" in body
    body = _hint(client, "lead", family_name="鈴木", given_name="一郎", email="ichiro@xyz.co.jp")
    assert "Is this 鈴木 一郎 at (株)XYZ?" in body


def test_colleague_on_the_main_line_is_not_hinted(client, org, sato):
    client.force_login(org.rep)
    body = _hint(client, "contact", family_name="田中", given_name="花子", phones="03-1111-2222")
    assert body.strip() == ""


def test_hint_queries_do_not_grow_with_the_table(client, org, sato, django_assert_max_num_queries):
    for i in range(30):
        customers.contact_create(
            actor=org.rep, family_name="佐藤", given_name=f"次郎{i}", emails=[f"j{i}@abc.co.jp"]
        )
    client.force_login(org.rep)
    with django_assert_max_num_queries(16):
        body = _hint(
            client,
            "contact",
            family_name="佐藤",
            given_name="太郎",
            emails="taro@abc.co.jp",
            phones="090-1234-5678",
            q="株式会社ＡＢＣ",
        )
    assert "佐藤 太郎" in body


def test_create_form_carries_the_hint_and_edit_form_does_not(client, org, sato):
    client.force_login(org.rep)
    page = client.get("/contacts/new/").content.decode()
    assert 'hx-get="/duplicates/hint/?entity=contact"' in page
    assert "/duplicates/hint/" in client.get("/companies/new/").content.decode()
    assert "/duplicates/hint/" in client.get("/leads/new/").content.decode()
    assert "/duplicates/hint/" not in client.get(f"/contacts/{sato.pk}/edit/").content.decode()
