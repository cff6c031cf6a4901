"""Starting, watching and cancelling the full scan from the review queue."""

import pytest

from kizuna.customers import services as customers
from kizuna.dedup import scan, services
from kizuna.dedup.models import DuplicateCandidate, ScanRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(org):
    for family, given in (("佐藤", "太郎"), ("ｻﾄｳ", "ﾀﾛｳ")):
        customers.contact_create(
            actor=org.rep,
            family_name=family,
            given_name=given,
            family_name_reading="サトウ",
            given_name_reading="タロウ",
            emails=["taro@abc.co.jp"],
        )


def test_admin_starts_a_scan_and_sees_its_outcome(
    client, org, twins, django_capture_on_commit_callbacks
):
    client.force_login(org.admin)
    page = client.get("/duplicates/?entity=contact").content.decode()
    assert "Scan all records for duplicates" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/duplicates/scan/", {"entity": "contact"})
    assert response.status_code == 302
    run = ScanRun.objects.get()
    assert (run.status, run.total, run.done, run.queued) == ("done", 2, 2, 1)
    assert DuplicateCandidate.objects.filter(source="scan").count() == 1
    body = client.get(f"/duplicates/scan/{run.pk}/").content.decode()
    assert "2 of 2 records checked, 1 new pairs to review, 0 merged" in body
    assert "every 1s" not in body  # finished: no more polling
    assert "Scan all records for duplicates" in client.get("/duplicates/").content.decode()


def test_running_scan_polls_shows_counts_and_cancels(client, org):
    run = ScanRun.objects.create(
        entity="contact", status="running", done=400, total=1000, pairs_found=7
    )
    client.force_login(org.admin)
    body = client.get("/duplicates/?entity=contact").content.decode()
    assert f'hx-get="/duplicates/scan/{run.pk}/"' in body and "every 1s" in body
    assert 'max="1000" value="400"' in body
    assert "400 of 1000 records checked, 7 possible duplicates found" in body
    body = client.post(f"/duplicates/scan/{run.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert "stopping" in body.content.decode()
    run.refresh_from_db()
    assert run.cancel_requested and run.status == "running"


def test_only_one_scan_per_entity_at_a_time(org):
    services.scan_start(actor=org.admin, entity="contact")
    with pytest.raises(Exception, match="already running"):
        services.scan_start(actor=org.admin, entity="contact")
    services.scan_start(actor=org.admin, entity="lead")  # another entity is fine


def test_cancel_stops_the_scan_between_ticks(org, twins, monkeypatch):
    run = ScanRun.objects.create(entity="contact")
    original = scan.scan_entity

    def cancelled_after_the_first_record(*, progress, **kwargs):
        def tick(done, total, pairs):
            if done >= 1:  # an admin presses Cancel meanwhile
                ScanRun.objects.filter(pk=run.pk).update(cancel_requested=True)
            return progress(done, total, pairs)

        return original(progress=tick, every=1, **kwargs)

    monkeypatch.setattr(scan, "scan_entity", cancelled_after_the_first_record)
    scan.scan_run(run.pk)
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("cancelled", 1, 2)
    assert run.finished_at is not None


def test_cancel_before_start_means_it_never_runs(org, twins):
    run = services.scan_start(actor=org.admin, entity="contact")
    services.scan_cancel(actor=org.admin, run=run)
    scan.scan_run(run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert not DuplicateCandidate.objects.exists()


def test_scan_pages_are_for_admins(client, org):
    run = ScanRun.objects.create(entity="contact", status="running")
    client.force_login(org.rep)
    assert "Scan all records" not in client.get("/duplicates/").content.decode()
    assert client.post("/duplicates/scan/", {"entity": "contact"}).status_code == 403
    assert client.get(f"/duplicates/scan/{run.pk}/").status_code == 403
    assert client.post(f"/duplicates/scan/{run.pk}/cancel/").status_code == 403
    assert not ScanRun.objects.filter(cancel_requested=True).exists()


def test_auto_merge_setting(org, twins, settings):
    settings.KIZUNA_DEDUP_AUTO_MERGE = True
    result = scan.scan_entity(entity="contact")
    assert (result.merged, result.queued) == (1, 0)
