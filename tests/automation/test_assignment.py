"""Lead assignment: territories, round-robin, people away, bulk and concurrent."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from kizuna.automation import assignment
from kizuna.automation.models import AssignmentRule, RoundRobinPointer
from kizuna.automation.services import assignment_rule_create
from kizuna.customers.models import Company, Lead
from kizuna.customers.services import lead_create
from kizuna.iam.services import token_create, user_set_away
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def kansai(db, org):
    team = TeamFactory(name="関西営業")
    people = [UserFactory(username=f"kansai{i}", team=team) for i in range(3)]
    assignment_rule_create(
        actor=org.admin, name="関西", team=team, prefectures=["大阪府", "京都", "兵庫県"]
    )
    return type("Kansai", (), {"team": team, "people": people})


@pytest.mark.django_db
def test_a_web_form_lead_from_osaka_goes_round_robin_to_kansai(org, kansai):
    leads = [
        lead_create(actor=org.rep, family_name=f"客{i}", channel="web_form", prefecture="大阪府")
        for i in range(4)
    ]
    assert [lead.owner for lead in leads] == [*kansai.people, kansai.people[0]]
    assert all(lead.team == kansai.team for lead in leads)
    # 京都 matches 京都府; a lead from 東京都 or with an owner is left alone.
    kyoto = lead_create(actor=org.rep, family_name="京", channel="web_form", prefecture="京都府")
    assert kyoto.owner == kansai.people[1]
    tokyo = lead_create(actor=org.rep, family_name="東", channel="web_form", prefecture="東京都")
    assert tokyo.owner == org.rep
    mine = lead_create(
        actor=org.rep, owner=org.colleague, family_name="私", channel="ad", prefecture="大阪府"
    )
    assert mine.owner == org.colleague


@pytest.mark.django_db
def test_people_away_are_skipped_until_they_are_back(org, kansai):
    first, second, third = kansai.people
    user_set_away(user=second, until=timezone.localdate() + datetime.timedelta(days=3))
    owners = [
        lead_create(actor=org.rep, family_name="客", channel="web_form", prefecture="大阪府").owner
        for _ in range(3)
    ]
    assert owners == [first, third, first]
    user_set_away(user=second, until=None)
    nxt = lead_create(actor=org.rep, family_name="客", channel="web_form", prefecture="大阪府")
    assert nxt.owner == second
    with pytest.raises(ValidationError):
        user_set_away(user=second, until=timezone.localdate() - datetime.timedelta(days=1))


@pytest.mark.django_db
def test_industry_and_size_territories_for_companies_and_korean_provinces(org):
    it_team = TeamFactory(name="IT")
    seoul_team = TeamFactory(name="서울")
    UserFactory(username="it1", team=it_team)
    UserFactory(username="seoul1", team=seoul_team)
    assignment_rule_create(actor=org.admin, name="서울", team=seoul_team, prefectures=["서울"])
    assignment_rule_create(
        actor=org.admin, name="IT", team=it_team, industries=["it"], sizes=["1000+"]
    )
    companies = [
        Company(name="A", prefecture="서울특별시"),
        Company(name="B", prefecture="大阪府", industry="it", size="1000+"),
        Company(name="C", prefecture="大阪府", industry="it", size="1-9"),
    ]
    assert assignment.assign_owners("company", companies) == 2
    assert [c.team for c in companies[:2]] == [seoul_team, it_team]
    assert companies[2].owner_id is None
    with pytest.raises(ValidationError):
        assignment_rule_create(actor=org.admin, name="x", team=it_team, industries=["nope"])
    with pytest.raises(PermissionDenied):
        assignment_rule_create(actor=org.rep, name="x", team=it_team)


@pytest.mark.django_db
def test_bulk_assignment_of_unsaved_leads_for_imports(org, kansai, django_assert_max_num_queries):
    leads = [
        Lead(family_name=f"客{i}", channel="other", prefecture="大阪府" if i % 2 else "沖縄県")
        for i in range(40)
    ]
    with django_assert_max_num_queries(10):
        assert assignment.assign_owners("lead", leads) == 20
    owners = [lead.owner for lead in leads if lead.owner_id]
    assert owners[:4] == [*kansai.people, kansai.people[0]]
    assert RoundRobinPointer.objects.get(team=kansai.team).last_user == owners[-1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_leads_go_to_different_people(org, kansai):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("an in-memory SQLite database is one connection")
    owners: list = []
    errors: list = []

    def create() -> None:
        try:
            lead = lead_create(
                actor=org.rep, family_name="客", channel="web_form", prefecture="大阪府"
            )
            owners.append(lead.owner_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(owners) == sorted(p.pk for p in kansai.people)


@pytest.mark.django_db
def test_assignment_page_and_away_toggle(client, org, kansai):
    client.force_login(org.admin)
    page = client.get("/settings/assignment/")
    assert page.status_code == 200 and "関西" in page.content.decode()
    response = client.post(
        "/settings/assignment/",
        {"name": "九州", "team": org.osaka.pk, "prefectures": "福岡県、熊本県", "sizes": ["1-9"]},
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get(name="九州")
    assert rule.prefectures == ["福岡県", "熊本県"] and rule.sizes == ["1-9"]
    client.post(f"/settings/assignment/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert not rule.is_active
    client.post(f"/settings/assignment/{rule.pk}/delete/")
    assert not AssignmentRule.objects.filter(pk=rule.pk).exists()

    client.force_login(org.rep)
    until = timezone.localdate() + datetime.timedelta(days=7)
    client.post("/me/away/", {"away_until": until.isoformat()})
    org.rep.refresh_from_db()
    assert org.rep.away_until == until
    assert "I am back" in client.get("/me/").content.decode()
    client.post("/me/away/", {"back": "1"})
    org.rep.refresh_from_db()
    assert org.rep.away_until is None


@pytest.mark.django_db
def test_an_api_create_without_owner_is_assigned(org, kansai):
    from tests.api.conftest import ApiClient

    _token, key = token_create(user=org.rep, name="test")
    response = ApiClient(key).post(
        "leads", {"family_name": "API", "channel": "web_form", "prefecture": "大阪府"}
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(family_name="API")
    assert lead.owner == kansai.people[0] and lead.team == kansai.team


@pytest.mark.django_db
def test_assignment_page_queries_do_not_grow_with_teams(
    client, org, kansai, django_assert_max_num_queries
):
    client.force_login(org.admin)
    client.get("/settings/assignment/")
    with django_assert_max_num_queries(12):
        client.get("/settings/assignment/")
    for i in range(5):
        team = TeamFactory(name=f"追加{i}")
        UserFactory(username=f"extra{i}", team=team)
        assignment_rule_create(actor=org.admin, name=f"r{i}", team=team, prefectures=["沖縄"])
    with django_assert_max_num_queries(12):
        assert "追加4" in client.get("/settings/assignment/").content.decode()
