"""Query-count guards: a list costs the same for 3 records as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.core.models import Tag
from kizuna.core.services import customfield_create
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    LeadFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _company(org, n):
    company = CompanyFactory(owner=org.rep, parent=CompanyFactory(owner=org.rep))
    company.tags.set(Tag.objects.all())
    return company


def _contact(org, n):
    contact = ContactFactory(owner=org.rep, email=f"p{n}@example.jp", company=CompanyFactory())
    contact.phones.create(number=f"+8190{n:08d}")
    contact.tags.set(Tag.objects.all())
    return contact


def _lead(org, n):
    lead = LeadFactory(owner=org.rep)
    lead.tags.set(Tag.objects.all())
    return lead


def _activity(org, n):
    contact = ContactFactory(owner=org.rep)
    activity = ActivityFactory(owner=org.rep, contact=contact, participants=[contact])
    activity.participant_users.set([org.rep, org.colleague])
    activity.tags.set(Tag.objects.all())
    return activity


def _user(org, n):
    return UserFactory(team=org.tokyo)


def _team(org, n):
    return TeamFactory()


def _custom_field(org, n):
    return customfield_create(
        actor=org.admin, object_type="lead", key=f"f{n}", label=f"F{n}", field_type="number"
    )


MAKERS = {
    "companies": _company,
    "contacts": _contact,
    "leads": _lead,
    "activities": _activity,
    "users": _user,
    "teams": _team,
    "custom-fields": _custom_field,
}


def _count(client, path) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, limit=100)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["items"])


@pytest.mark.parametrize("path", MAKERS)
def test_list_query_count_does_not_grow(org, rep_api, path):
    Tag.objects.create(name="重要")
    Tag.objects.create(name="VIP")
    for object_type in ("company", "contact", "lead", "activity"):
        customfield_create(
            actor=org.admin, object_type=object_type, key="note", label="Note", field_type="text"
        )
    make = MAKERS[path]
    for n in range(3):
        make(org, n)
    rep_api.get(path)  # the first use of a token writes last_used_at
    few, few_items = _count(rep_api, path)
    for n in range(3, 30):
        make(org, n)
    many, many_items = _count(rep_api, path)
    assert many_items >= few_items + 27
    assert many == few
    assert few <= 12
