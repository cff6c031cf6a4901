import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.customers.services import company_create
from kizuna.sales.models import Deal, Pipeline, Stage
from kizuna.sales.services import deal_create
from tests.api.conftest import api_for  # noqa: F401 (a fixture)


def won(deal: Deal, when: datetime.datetime) -> Deal:
    """Mark a deal won at ``when`` (reports read the columns; the move rules are tested in
    sales)."""
    stage = Stage.objects.filter(pipeline=deal.pipeline, outcome=Stage.Outcome.WON).first()
    Deal.objects.filter(pk=deal.pk).update(status="won", stage=stage, closed_at=when)
    deal.refresh_from_db()
    return deal


def at(year: int, month: int, day: int = 15) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


@pytest.fixture
def sales_data(org):
    """Tokyo (rep) and Osaka (outsider) deals in two industries, JPY and KRW, won over
    two fiscal quarters (the fiscal year starts in April)."""
    assert Pipeline.objects.exists()
    maker = company_create(actor=org.rep, name="東京製作所", industry="manufacturing")
    shop = company_create(actor=org.rep, name="東京商店", industry="retail")
    osaka = company_create(actor=org.outsider, name="大阪機械", industry="manufacturing")
    seoul = company_create(actor=org.rep, name="서울상사", industry="retail")
    deals = {
        "m1": won(
            deal_create(actor=org.rep, name="m1", company=maker, amount=1_000_000), at(2025, 4)
        ),
        "m2": won(
            deal_create(actor=org.rep, name="m2", company=maker, amount=3_000_000), at(2025, 7)
        ),
        "r1": won(
            deal_create(actor=org.colleague, name="r1", company=shop, amount=500_000), at(2025, 5)
        ),
        "k1": won(
            deal_create(actor=org.rep, name="k1", company=seoul, amount=20_000_000, currency="KRW"),
            at(2025, 6),
        ),
        "o1": won(
            deal_create(actor=org.outsider, name="o1", company=osaka, amount=9_000_000), at(2025, 4)
        ),
        "open": deal_create(actor=org.rep, name="open", company=maker, amount=7_000_000),
    }
    return deals


__all__ = ["Decimal", "at", "won"]
