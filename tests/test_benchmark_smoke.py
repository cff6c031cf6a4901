"""Runs benchmarks/foundation.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

from kizuna.activities.models import Activity
from kizuna.core.validators import validate_corporate_number
from kizuna.customers.models import Company, Contact
from kizuna.customers.selectors import company_list
from tests.factories import ContactFactory

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "foundation.py"


@pytest.fixture(scope="module")
def foundation():
    spec = importlib.util.spec_from_file_location("foundation_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_seed_and_measure_at_toy_size(foundation, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    result = foundation.seed(
        companies=200, contacts=400, activities=1000, teams=3, users=12, baseline_rows=100
    )
    assert Company.objects.count() == 200
    assert Contact.objects.count() == 400
    assert Activity.objects.count() == 1000  # the baseline rows are deleted again
    assert result.total_rows > 1600 and result.rows_per_second > 0
    assert result.baseline_rows_per_second > 0
    company = Company.objects.exclude(corporate_number="").first()
    validate_corporate_number(company.corporate_number)
    # The search index was rebuilt after the load, and new writes still reach it.
    assert company in company_list(user=result.org.admin, filters={"q": company.name_key[:2]})

    timings = foundation.measure(org=result.org, requests=3, warmup=1)
    assert {t.user for t in timings} == {"rep", "admin"}
    assert len(timings) == 8
    for timing in timings:
        assert timing.samples_ms or not timing.available
    text = foundation.report(result, timings, {"companies": 200})
    assert "| company list (prefecture + owner) | rep |" in text


@pytest.mark.django_db
def test_sqlite_writer_checks_the_references_of_a_table(foundation):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite writer")
    contact = ContactFactory()
    connection.ensure_connection()
    writer = foundation.SqliteWriter(connection)
    columns = ["contact_id", "email", "label", "position"]
    table = "customers_contactemail"
    writer.write(table, columns, [(contact.pk, "a@example.com", "work", 0)])
    writer.check_references(table)
    # Foreign keys are deferred: the row goes in, and the check finds it.
    writer.write(table, columns, [(contact.pk + 999, "b@example.com", "work", 0)])
    with pytest.raises(RuntimeError, match="refer to missing rows"):
        writer.check_references(table)
    connection.connection.execute(f"DELETE FROM {table} WHERE contact_id = ?", [contact.pk + 999])
    # With a gap in the contacts' ids the proof by range does not hold: a
    # reference inside the range to the missing id is found row by row.
    middle, last = ContactFactory(), ContactFactory()
    writer.write(table, columns, [(middle.pk, "c@example.com", "work", 0)])
    connection.connection.execute("DELETE FROM customers_contact WHERE id = ?", [middle.pk])
    assert middle.pk < last.pk
    with pytest.raises(RuntimeError, match="refer to missing rows"):
        writer.check_references(table)
    connection.connection.execute(f"DELETE FROM {table} WHERE contact_id = ?", [middle.pk])
