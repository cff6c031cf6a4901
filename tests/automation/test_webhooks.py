"""Webhooks against a real local HTTP server answering 200, 500 or hanging."""

import datetime
import hashlib
import hmac
import http.server
import json
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kizuna.automation import webhooks
from kizuna.automation.jobs import huey
from kizuna.automation.models import (
    JobRun,
    Notification,
    WebhookDelivery,
    WebhookSubscription,
)
from kizuna.automation.services import webhook_create, webhook_redeliver, webhook_set_active


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))
        if self.path == "/hang":
            self.server.release.wait(10)
        code = 500 if self.path == "/fail" else 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"broken" if code == 500 else b"thanks")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    settings.KIZUNA_WEBHOOK_TIMEOUT = 0.5
    settings.KIZUNA_WEBHOOK_MAX_FAILURES = 3
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def subscribe(org, receiver, path: str, events=("deal.won",)) -> WebhookSubscription:
    return webhook_create(
        actor=org.admin, name=path.strip("/"), url=receiver.url(path), events=list(events)
    )


@pytest.mark.django_db
def test_a_signed_payload_reaches_the_endpoint(org, receiver, django_capture_on_commit_callbacks):
    sub = subscribe(org, receiver, "/ok")
    subscribe(org, receiver, "/ok-other", events=["contact.created"])
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit_event(
            event="deal.won", payload={"id": 7, "amount": "1200000", "name": "大型案件"}
        )
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.response_code == 200 and delivery.response_body == "thanks"
    assert delivery.attempts == 1

    ((path, headers, body),) = receiver.requests
    assert path == "/ok"
    assert headers["X-Kizuna-Event"] == "deal.won"
    assert headers["X-Kizuna-Delivery"] == str(delivery.event_id)
    expected = hmac.new(
        sub.secret.encode(), f"{headers['X-Kizuna-Timestamp']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Kizuna-Signature"] == f"sha256={expected}"
    envelope = json.loads(body)
    assert envelope["event"] == "deal.won"
    assert envelope["data"] == {"id": 7, "amount": "1200000", "name": "大型案件"}
    assert JobRun.objects.get(name="deliver_webhook").status == JobRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_customer_records_send_their_created_events(
    org, receiver, django_capture_on_commit_callbacks
):
    from kizuna.customers.services import company_create, contact_create, lead_create

    subscribe(org, receiver, "/crm", events=["company.created", "contact.created", "lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        company = company_create(actor=org.rep, name="株式会社ＡＢＣ")
        contact_create(
            actor=org.rep,
            family_name="佐藤",
            given_name="太郎",
            company=company,
            emails=["taro@abc.co.jp"],
        )
        lead_create(actor=org.rep, family_name="鈴木", channel="web_form")
    sent = {
        json.loads(body)["event"]: json.loads(body)["data"] for _p, _h, body in receiver.requests
    }
    assert sent["company.created"]["name"] == "株式会社ＡＢＣ"
    assert sent["contact.created"]["company"] == company.pk
    assert sent["contact.created"]["emails"] == ["taro@abc.co.jp"]
    assert sent["lead.created"]["channel"] == "web_form"
    assert sent["lead.created"]["owner"] == org.rep.pk


@pytest.mark.django_db
def test_nothing_is_sent_for_a_rolled_back_change(
    org, receiver, django_capture_on_commit_callbacks
):
    subscribe(org, receiver, "/ok")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhooks.emit_event(event="deal.won", payload={"id": 1})
    assert len(callbacks) == 1  # queued only when the transaction commits
    assert receiver.requests == []


@pytest.mark.django_db
def test_an_error_answer_is_logged_and_retried_with_backoff(org, receiver):
    subscribe(org, receiver, "/fail")
    (delivery,) = webhooks.emit_event(event="deal.won", payload={"id": 1})
    huey.storage.flush_schedule()
    from kizuna.automation.tasks import deliver_webhook

    before = datetime.datetime.now()
    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.response_code == 500 and delivery.response_body == "broken"
    assert delivery.error == "HTTP 500"
    assert delivery.subscription.consecutive_failures == 1
    (retry,) = huey.scheduled()
    assert 59 <= (retry.eta - before).total_seconds() <= 61
    assert retry.retry_delay == 120  # the next wait doubles
    assert JobRun.objects.get(name="deliver_webhook").status == JobRun.Status.RETRYING
    huey.storage.flush_schedule()


@pytest.mark.django_db
def test_a_hanging_endpoint_times_out(org, receiver):
    subscribe(org, receiver, "/hang")
    (delivery,) = webhooks.emit_event(event="deal.won", payload={"id": 1})
    assert webhooks.deliver(delivery_id=delivery.pk, retries_left=0) is True
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_code is None
    assert delivery.error == "No answer within 0.5 s."


@pytest.mark.django_db
def test_repeated_failures_disable_the_webhook_and_tell_the_admins(org, receiver):
    sub = subscribe(org, receiver, "/fail")
    for _ in range(3):
        (delivery,) = webhooks.emit_event(event="deal.won", payload={"id": 1})
        webhooks.deliver(delivery_id=delivery.pk, retries_left=5)
    sub.refresh_from_db()
    assert not sub.is_active
    assert "3 failed attempts in a row" in sub.disabled_reason
    (notice,) = Notification.objects.filter(kind="webhook_disabled")
    assert notice.recipient == org.admin
    assert notice.url == f"/settings/webhooks/{sub.pk}/"
    # The attempt that disabled it is not retried, and nothing more is queued.
    assert WebhookDelivery.objects.filter(status="failed").count() == 1
    assert webhooks.emit_event(event="deal.won", payload={"id": 2}) == []
    # A delivery still waiting is not sent to a disabled webhook.
    waiting = WebhookDelivery.objects.filter(status="retrying").first()
    assert webhooks.deliver(delivery_id=waiting.pk, retries_left=5) is True
    assert len(receiver.requests) == 3

    webhook_set_active(actor=org.admin, subscription=sub, active=True)
    sub.refresh_from_db()
    assert sub.is_active and sub.consecutive_failures == 0


@pytest.mark.django_db
def test_a_success_resets_the_failure_count_and_redelivery(org, receiver):
    sub = subscribe(org, receiver, "/fail")
    (delivery,) = webhooks.emit_event(event="deal.won", payload={"id": 1})
    webhooks.deliver(delivery_id=delivery.pk, retries_left=0)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    WebhookSubscription.objects.filter(pk=sub.pk).update(url=receiver.url("/ok"))
    webhook_redeliver(actor=org.admin, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    webhooks.deliver(delivery_id=delivery.pk, retries_left=0)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0
    # Running the task again (a duplicate) sends nothing more.
    webhooks.deliver(delivery_id=delivery.pk, retries_left=0)
    assert [r[0] for r in receiver.requests] == ["/fail", "/ok"]
    with pytest.raises(ValidationError):
        webhook_redeliver(actor=org.admin, delivery=delivery)


@pytest.mark.django_db
def test_bad_subscriptions_and_events_are_refused(org):
    good = {"name": "会計", "url": "https://example.jp/hook", "events": ["deal.won"]}
    for bad in ({"events": []}, {"events": ["deal.exploded"]}, {"url": "ftp://x"}, {"name": ""}):
        with pytest.raises(ValidationError):
            webhook_create(actor=org.admin, **{**good, **bad})
    with pytest.raises(PermissionDenied):
        webhook_create(actor=org.manager, **good)
    assert not WebhookSubscription.objects.exists()
    with pytest.raises(ValidationError):
        webhooks.emit_event(event="deal.exploded", payload={})


@pytest.mark.django_db
def test_webhook_pages(client, org, receiver):
    client.force_login(org.admin)
    response = client.post(
        "/settings/webhooks/",
        {"name": "会計システム", "url": receiver.url("/ok"), "events": ["deal.won", "deal.lost"]},
    )
    sub = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{sub.pk}/"
    (delivery,) = webhooks.emit_event(event="deal.lost", payload={"id": 3})
    webhooks.deliver(delivery_id=delivery.pk, retries_left=0)
    page = client.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    assert "deal.lost" in page and "200" in page
    client.post(f"/settings/webhooks/{sub.pk}/toggle/")
    sub.refresh_from_db()
    assert not sub.is_active
    client.force_login(org.manager)
    assert client.get("/settings/webhooks/").status_code == 403
    assert client.get(f"/settings/webhooks/{sub.pk}/").status_code == 403
