"""The review queue, the compare page and the merge history in the browser's shoes."""

import pytest

from kizuna.activities.models import Activity
from kizuna.activities.services import activity_create
from kizuna.customers import services as customers
from kizuna.customers.models import Contact
from kizuna.dedup import services
from kizuna.dedup.lookup import Matcher
from kizuna.dedup.models import DuplicateCandidate, Merge

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(org):
    abc = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ")
    abc2 = customers.company_create(actor=org.rep, name="(株)ABC")
    kanji = customers.contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["taro@abc.co.jp"],
    )
    kana = customers.contact_create(
        actor=org.rep,
        family_name="ｻﾄｳ",
        given_name="ﾀﾛｳ",
        company=abc2,
        emails=["taro@abc.co.jp"],
    )
    activity_create(actor=org.rep, kind="call", subject="電話", contact=kanji)
    activity_create(actor=org.rep, kind="visit", subject="訪問", contact=kana)
    matcher = Matcher.load("contact", ids=[kanji.pk])
    [found] = matcher.match(
        [{"full_name": "ｻﾄｳ ﾀﾛｳ", "company": "(株)ABC", "email": "taro@abc.co.jp"}]
    )
    candidate = services.candidate_add(
        entity="contact",
        a_id=kanji.pk,
        b_id=kana.pk,
        score=found.score,
        evidence=found.evidence,
        source="scan",
    )
    return candidate, kanji, kana


def test_queue_compare_merge_and_undo(client, org, queued, django_assert_max_num_queries):
    candidate, kanji, kana = queued
    client.force_login(org.rep)
    with django_assert_max_num_queries(20):
        response = client.get("/duplicates/?entity=contact")
    body = response.content.decode()
    assert "佐藤 太郎" in body and "ｻﾄｳ ﾀﾛｳ" in body
    assert "e-mail same" in body
    page = client.get(f"/duplicates/{candidate.pk}/").content.decode()
    assert 'name="f_family_name"' in page
    response = client.post(
        f"/duplicates/{candidate.pk}/",
        {"survivor": kanji.pk, "f_family_name": kanji.pk, "f_given_name": kanji.pk},
    )
    assert response.status_code == 302 and response["Location"] == f"/contacts/{kanji.pk}/"
    assert Activity.objects.filter(contact_id=kanji.pk).count() == 2
    assert Contact.objects.get(pk=kanji.pk).family_name == "佐藤"
    assert not client.get("/duplicates/?entity=contact").context["rows"]
    history = client.get("/duplicates/merges/").content.decode()
    assert "ｻﾄｳ ﾀﾛｳ" in history
    merge = Merge.objects.get()
    client.post(f"/duplicates/merges/{merge.pk}/undo/")
    assert Contact.objects.filter(pk=kana.pk).exists()
    assert Activity.objects.filter(contact_id=kana.pk).count() == 1
    assert DuplicateCandidate.objects.get().status == "open"


def test_not_a_duplicate(client, org, queued):
    candidate, _kanji, _kana = queued
    client.force_login(org.rep)
    client.post(f"/duplicates/{candidate.pk}/dismiss/")
    assert DuplicateCandidate.objects.get().status == "dismissed"


def test_read_only_user_cannot_merge(client, org, queued):
    candidate, _kanji, _kana = queued
    client.force_login(org.colleague)  # same team: can see; the org default lets them edit?
    response = client.post(f"/duplicates/{candidate.pk}/", {"survivor": candidate.a_id})
    assert response.status_code in (302, 403)
    client.force_login(org.outsider)
    assert client.get(f"/duplicates/{candidate.pk}/").status_code == 404
    assert client.get("/duplicates/?entity=contact").context["rows"] == []


def test_scan_queues_pairs_once_and_keeps_colleagues_apart(org):
    from kizuna.dedup.scan import scan_entity

    abc = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ", phone="03-1234-0000")
    customers.contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["taro@abc.co.jp"],
    )
    customers.contact_create(
        actor=org.rep,
        family_name="ｻﾄｳ",
        given_name="ﾀﾛｳ",
        company=abc,
        emails=["TARO@abc.co.jp"],
    )
    for family in ("鈴木", "田中"):
        customers.contact_create(
            actor=org.rep,
            family_name=family,
            company=abc,
            emails=["info@abc.co.jp"],
            phones=["03-1234-0000"],
        )
    result = scan_entity(entity="contact")
    assert (result.pairs_found, result.queued) == (1, 1)
    assert scan_entity(entity="contact").queued == 0
    assert DuplicateCandidate.objects.count() == 1


def test_scan_command(org, capsys):
    from django.core.management import call_command

    call_command("dedup", "--scan", "contact")
    assert "records scanned" in capsys.readouterr().err


def test_record_page_links_its_open_pairs(client, org, queued):
    candidate, kanji, kana = queued
    client.force_login(org.rep)
    body = client.get(f"/contacts/{kanji.pk}/").content.decode()
    assert "1 possible duplicate<" in body
    assert f"/duplicates/?entity=contact&amp;record={kanji.pk}" in body
    listed = client.get(f"/duplicates/?entity=contact&record={kana.pk}").context["rows"]
    assert [r["candidate"].pk for r in listed] == [candidate.pk]
    services.candidate_dismiss(actor=org.rep, candidate=candidate)
    assert "possible duplicate" not in client.get(f"/contacts/{kanji.pk}/").content.decode()
    # Someone who cannot edit both records sees no link.
    client.force_login(org.outsider)
    assert client.get(f"/contacts/{kanji.pk}/").status_code == 404


def test_record_link_costs_one_query_on_detail_pages(client, org, queued):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _candidate, kanji, _kana = queued
    client.force_login(org.rep)
    client.get(f"/contacts/{kanji.pk}/")
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"/contacts/{kanji.pk}/")
    dedup = [q["sql"] for q in ctx.captured_queries if "dedup_duplicatecandidate" in q["sql"]]
    assert len(dedup) == 1
    with CaptureQueriesContext(connection) as ctx:
        client.get("/contacts/")
    assert not [q for q in ctx.captured_queries if "dedup_duplicatecandidate" in q["sql"]]


def test_company_and_lead_pages_link_their_pairs(client, org):
    a = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ")
    b = customers.company_create(actor=org.rep, name="(株)ABC")
    services.candidate_add(
        entity="company", a_id=a.pk, b_id=b.pk, score=0.9, evidence=[], source="scan"
    )
    x = customers.lead_create(actor=org.rep, family_name="佐藤", channel="ad")
    y = customers.lead_create(actor=org.rep, family_name="佐藤", channel="ad")
    services.candidate_add(
        entity="lead", a_id=x.pk, b_id=y.pk, score=0.9, evidence=[], source="api"
    )
    client.force_login(org.rep)
    assert "1 possible duplicate<" in client.get(f"/companies/{b.pk}/").content.decode()
    assert "1 possible duplicate<" in client.get(f"/leads/{x.pk}/").content.decode()
