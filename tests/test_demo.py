import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kizuna.activities.models import Activity
from kizuna.core.models import AccessPolicy, CustomFieldDefinition, OrgSettings, Tag
from kizuna.core.text import company_key
from kizuna.core.validators import normalize_phone, validate_corporate_number
from kizuna.customers.models import Company, Contact, ContactEmployment, Lead
from kizuna.customers.selectors import company_list, global_search
from kizuna.demo.generate import Generator, Org, Seat
from kizuna.iam.models import User

KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")


def _run(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_loads_realistic_consistent_data():
    output = _run("--password", "secret-demo-pw")
    assert "demo / secret-demo-pw" in output
    assert "kizuna serve" in output and "http://127.0.0.1:8000/" in output

    # The organisation.
    demo = User.objects.get(username="demo")
    assert demo.is_org_admin and demo.check_password("secret-demo-pw")
    assert User.objects.filter(language="ko", team__name="서울영업팀").count() >= 3
    ito = User.objects.get(username="ito")
    assert ito.role.parent.parent.parent.name == "営業本部長"
    assert AccessPolicy.objects.count() == 5
    assert OrgSettings.get().fiscal_year_start_month == 4
    assert CustomFieldDefinition.objects.filter(object_type="company").count() == 3
    assert Tag.objects.count() >= 5

    # Counts.
    assert 180 <= Company.objects.filter(kind="company").count() <= 230
    assert Company.objects.exclude(kind="company").count() >= 20
    assert Contact.objects.count() == 800
    assert Lead.objects.count() == 300
    assert 2000 <= Activity.objects.count() <= 6000
    assert len(set(Lead.objects.values_list("channel", flat=True))) >= 6
    assert ContactEmployment.objects.filter(ended_on__isnull=False).exists()

    # Companies: names, 法人番号, hierarchy, derived columns.
    companies = list(Company.objects.all())
    names = " ".join(c.name for c in companies)
    for form in ("株式会社", "㈱", "(株)", "有限会社", "주식회사", "㈜"):
        assert form in names
    by_id = {c.pk: c for c in companies}
    for c in companies:
        if c.corporate_number:
            validate_corporate_number(c.corporate_number)
        assert c.name_key == company_key(c.name)
        expected_path = f"{by_id[c.parent_id].path if c.parent_id else '/'}{c.pk}/"
        assert c.path == expected_path
        assert (c.parent_id is None) == (c.kind == "company")
        assert normalize_phone(c.phone) == c.phone
        search_index = c.search_index
        c.refresh_search_index()
        assert c.search_index == search_index
    assert sum(1 for c in companies if c.corporate_number) > 100
    assert max(c.path.count("/") for c in companies) >= 4  # company → division → site

    # Contacts: readings, channels, search text as the services write it.
    contacts = Contact.objects.prefetch_related("emails", "phones", "company")
    japanese = 0
    for contact in contacts:
        emails = [e.email for e in contact.emails.all()]
        phones = [p.number for p in contact.phones.all()]
        assert 1 <= len(emails) <= 2 and 1 <= len(phones) <= 2
        assert all(normalize_phone(p) == p for p in phones)
        search_index = contact.search_index
        contact.refresh_search_index(*emails, *(p.lstrip("+") for p in phones))
        assert contact.search_index == search_index
        if KATAKANA.match(contact.family_name_reading):
            japanese += 1
            assert KATAKANA.match(contact.given_name_reading)
    assert japanese > 500

    # Activities: the company follows the contact; tasks done and overdue.
    for activity in Activity.objects.select_related("contact")[:500]:
        if activity.contact_id:
            assert activity.company_id == activity.contact.company_id
        search_index = activity.search_index
        activity.refresh_search_index()
        assert activity.search_index == search_index
    tasks = Activity.objects.filter(kind="task")
    assert tasks.filter(done_at__isnull=False).exists()
    assert any(t.is_overdue for t in tasks)
    assert Activity.objects.filter(kind="meeting", participants__isnull=False).exists()
    assert Company.objects.exclude(next_action_due=None).exists()

    # Search finds a company by two characters of its name.
    target = Company.objects.filter(kind="company", name__contains="株式会社").first()
    core = target.name.replace("株式会社", "")
    found = company_list(user=demo, filters={"q": core[:2]})
    assert target in found
    assert global_search(user=demo, q=core[1:3])["companies"]
    # A rep sees her team's customers only.
    seen = company_list(user=ito, filters={})
    assert seen.exists() and not seen.exclude(team=ito.team).exists()


@pytest.mark.django_db
def test_demo_refuses_existing_data_unless_reset():
    _run()
    with pytest.raises(CommandError):
        _run()
    first = sorted(Company.objects.values_list("name", flat=True))
    _run("--reset")
    # The same seed gives the same customers.
    assert sorted(Company.objects.values_list("name", flat=True)) == first
    assert User.objects.filter(username="demo").count() == 1


def test_generator_is_reproducible():
    org = Org(seats=[Seat(1, "east", [1, 2]), Seat(2, "kr", [3])], admin=None)

    def rows(seed):
        gen = Generator(org, seed=seed, now=None)
        gen.now = gen.now.replace(year=2025, month=1, day=1, hour=0, minute=0, second=0)
        companies = [r for b in gen.company_batches(50, 1) for r in b[Company]]
        contacts = [r for b in gen.contact_batches(100, 1) for r in b[Contact]]
        return companies, contacts

    assert rows(1) == rows(1)
    assert rows(1) != rows(2)
