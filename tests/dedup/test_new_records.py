"""Records created through the API (or a web form posting to it) are checked after commit."""

import pytest

from kizuna.customers import services as customers
from kizuna.customers.models import Lead
from kizuna.dedup import services
from kizuna.dedup.models import DuplicateCandidate
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


class CommittingClient(ApiClient):
    """Runs the on-commit callbacks of each request, as a real commit would."""

    def __init__(self, key, capture):
        super().__init__(key)
        self.capture = capture

    def request(self, *args, **kwargs):
        with self.capture(execute=True):
            return super().request(*args, **kwargs)


@pytest.fixture
def api(org, django_capture_on_commit_callbacks):
    from kizuna.iam.services import token_create

    _token, key = token_create(user=org.rep, name="test")
    return CommittingClient(key, django_capture_on_commit_callbacks)


@pytest.fixture
def sato_lead(org):
    return customers.lead_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        company_name="株式会社ＡＢＣ",
        email="taro@abc.co.jp",
        channel="trade_show",
    )


def test_web_form_lead_queues_the_pair(api, sato_lead):
    response = api.post(
        "leads",
        {
            "family_name": "ｻﾄｳ",
            "given_name": "ﾀﾛｳ",
            "company_name": "(株)ABC",
            "email": "Taro@abc.co.jp",
            "channel": "web_form",
        },
    )
    assert response.status_code == 201, response.content
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.a_id, candidate.b_id} == {sato_lead.pk, response.json()["id"]}
    assert candidate.source == "web_form" and candidate.status == "open"
    assert candidate.entity == "lead"


def test_api_contact_and_company_creates_queue_pairs(org, api):
    abc = customers.company_create(actor=org.rep, name="株式会社ＡＢＣ", domain="abc.co.jp")
    customers.contact_create(
        actor=org.rep, family_name="佐藤", given_name="太郎", company=abc, emails=["taro@abc.co.jp"]
    )
    assert api.post("companies", {"name": "(株)ABC", "domain": "abc.co.jp"}).status_code == 201
    response = api.post(
        "contacts", {"family_name": "佐藤", "given_name": "太郎", "emails": ["taro@abc.co.jp"]}
    )
    assert response.status_code == 201, response.content
    sources = set(DuplicateCandidate.objects.values_list("entity", "source"))
    assert sources == {("company", "api"), ("contact", "api")}


def test_api_create_without_a_duplicate_queues_nothing(api, sato_lead):
    response = api.post(
        "leads", {"family_name": "山田", "given_name": "花子", "channel": "web_form"}
    )
    assert response.status_code == 201
    assert not DuplicateCandidate.objects.exists()


def test_a_failing_check_never_fails_the_create(api, sato_lead, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("matching broke")

    monkeypatch.setattr(services, "match_one", broken)
    response = api.post(
        "leads",
        {"family_name": "佐藤", "given_name": "太郎", "email": "taro@abc.co.jp", "channel": "ad"},
    )
    assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_a_rolled_back_create_checks_nothing(
    org, sato_lead, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    calls = []
    monkeypatch.setattr(services, "duplicates_check", lambda **kw: calls.append(kw))
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        lead = customers.lead_create(
            actor=org.rep, family_name="佐藤", given_name="太郎", channel="ad"
        )
        services.duplicates_check_on_commit(entity="lead", record_id=lead.pk, source="api")
        raise RuntimeError
    assert calls == []


def test_check_is_idempotent_and_skips_a_vanished_record(org, sato_lead):
    twin = customers.lead_create(
        actor=org.rep, family_name="佐藤", given_name="太郎", email="taro@abc.co.jp", channel="ad"
    )
    first = services.duplicates_check(entity="lead", record_id=twin.pk, source="api")
    again = services.duplicates_check(entity="lead", record_id=twin.pk, source="api")
    assert [c.pk for c in first] == [c.pk for c in again] and len(first) == 1
    assert services.duplicates_check(entity="lead", record_id=999999, source="api") == []
