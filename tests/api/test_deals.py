"""Deals over the API: exit criteria as a 422 that lists what is missing, the overlap flag."""

import pytest
from django.utils import translation

from kizuna.customers.services import company_create
from kizuna.sales.models import Stage

pytestmark = pytest.mark.django_db


def stage_id(ja: str) -> int:
    return Stage.objects.get(translations__ja=ja).pk


@pytest.fixture
def company(org):
    return company_create(actor=org.rep, name="株式会社ＡＢＣ")


def test_create_reads_amounts_and_a_forward_move_lists_the_missing_items(rep_api, company):
    created = rep_api.post(
        "deals", {"name": "新規導入", "company": company.pk, "amount": "１，２００，０００円"}
    )
    assert created.status_code == 201, created.content
    deal = created.json()
    assert deal["amount"] == "1200000.00" and deal["currency"] == "JPY"
    echoed = rep_api.patch(f"deals/{deal['id']}", {"amount": deal["amount"], "version": 1})
    assert echoed.status_code == 200, echoed.content
    assert deal["overlapping_deals"] == []

    refused = rep_api.post(f"deals/{deal['id']}/move", {"stage": stage_id("資料作成中")})
    assert refused.status_code == 422
    body = refused.json()
    assert [m["key"] for m in body["missing"]] == ["next_action", "need", "authority", "budget"]
    assert body["detail"][0]["type"] == "exit_criteria"

    rep_api.patch(
        f"deals/{deal['id']}",
        {
            "next_action": "提案",
            "next_action_due": "2026-12-01",
            "need_status": "captured",
            "authority_status": "captured",
            "budget_status": "captured",
        },
    )
    moved = rep_api.post(f"deals/{deal['id']}/move", {"stage": stage_id("資料作成中")})
    assert moved.status_code == 200 and moved.json()["stage"] == stage_id("資料作成中")
    history = rep_api.get(f"deals/{deal['id']}/stage-history").json()
    assert [h["to_stage"] for h in history] == [stage_id("初回接触"), stage_id("資料作成中")]


def test_the_refusal_speaks_the_users_language(org, rep_api, company):
    org.rep.language = "ja"
    org.rep.save()
    deal = rep_api.post("deals", {"name": "案件", "company": company.pk}).json()
    refused = rep_api.post(f"deals/{deal['id']}/move", {"stage": stage_id("受注")}).json()
    with translation.override("ja"):
        expected = translation.gettext("Budget (BANT)")
    assert expected in [m["label"] for m in refused["missing"]]


@pytest.mark.parametrize("amount", ["1,200.5", "-10", "百万"])
def test_unclear_amounts_are_refused_and_nothing_is_created(rep_api, company, amount):
    response = rep_api.post("deals", {"name": "x", "company": company.pk, "amount": amount})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "amount"]
    assert rep_api.get("deals").json()["items"] == []


def test_another_teams_deal_on_the_customer_is_flagged(org, api_for, rep_api, company):
    site = company_create(actor=org.admin, owner=org.outsider, name="ABC 大阪", parent=company)
    api_for(org.outsider).post("deals", {"name": "大阪", "company": site.pk})
    created = rep_api.post("deals", {"name": "東京", "company": company.pk}).json()
    [flag] = created["overlapping_deals"]
    assert flag["id"] is None and flag["team"] == org.osaka.pk and flag["company"] == site.pk


def test_a_double_submitted_create_makes_one_deal(rep_api, company):
    headers = {"Idempotency-Key": "deal-once"}
    first = rep_api.post("deals", {"name": "一件", "company": company.pk}, headers=headers)
    second = rep_api.post("deals", {"name": "一件", "company": company.pk}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert len(rep_api.get("deals").json()["items"]) == 1


def test_bulk_move_is_all_or_nothing(rep_api, company):
    ids = [rep_api.post("deals", {"name": n, "company": company.pk}).json()["id"] for n in "ab"]
    refused = rep_api.post(
        "deals/bulk-move", {"deals": ids, "stage": stage_id("提案済み・反応待ち")}
    )
    assert refused.status_code == 422
    assert all(d["stage"] == stage_id("初回接触") for d in rep_api.get("deals").json()["items"])
    back = rep_api.post("deals/bulk-move", {"deals": ids, "stage": stage_id("初回接触")})
    assert back.status_code == 200
