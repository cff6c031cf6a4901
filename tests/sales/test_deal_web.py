"""The deal pages through Django's test client: the two-teams warning and the move form."""

import pytest

from kizuna.customers.services import company_create
from kizuna.sales import services
from kizuna.sales.models import Deal, Pipeline, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(org):
    parent = company_create(actor=org.admin, owner=org.rep, name="株式会社やまと")
    site = company_create(actor=org.admin, owner=org.outsider, name="やまと 大阪", parent=parent)
    services.deal_create(actor=org.outsider, name="大阪の案件", company=site)
    return parent


def test_creating_a_deal_beside_another_teams_asks_first(client, org, group):
    client.force_login(org.rep)
    data = {
        "name": "東京の案件",
        "company": group.pk,
        "pipeline": Pipeline.objects.get().pk,
        "amount": "１，０００，０００",
        "currency": "JPY",
        "forecast_category": "pipeline",
    }
    warned = client.post("/deals/new/", data)
    assert warned.status_code == 409
    body = warned.content.decode()
    assert "大阪営業" in body and "大阪の案件" not in body  # the team, not a deal she cannot open
    assert Deal.objects.count() == 1
    created = client.post("/deals/new/", {**data, "confirm_overlap": "on"})
    assert created.status_code == 302
    deal = Deal.objects.get(name="東京の案件")
    assert deal.amount == 1_000_000 and deal.team == org.tokyo


def test_the_deal_page_moves_with_a_loss_reason(client, org, group):
    deal = services.deal_create(actor=org.rep, name="案件", company=group)
    client.force_login(org.rep)
    lost = Stage.objects.get(translations__ja="失注")
    refused = client.post(f"/deals/{deal.pk}/move/", {"stage": lost.pk}, follow=True)
    assert "Choose why the deal was lost." in refused.content.decode()
    deal.refresh_from_db()
    assert deal.status == "open"
    reason = services.LossReason.objects.first()
    client.post(f"/deals/{deal.pk}/move/", {"stage": lost.pk, "loss_reason": reason.pk})
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.loss_reason == reason
