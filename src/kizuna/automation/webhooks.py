"""Webhooks: events other apps emit, signed deliveries, retries, disabling.

An app emits an event inside its service's transaction::

    from kizuna.automation.webhooks import emit_event
    emit_event(event="deal.won", payload={"id": deal.pk, ...})

Each active subscription to that event gets a WebhookDelivery row and a
``deliver_webhook`` task once the transaction commits. The receiver gets::

    POST <url>
    Content-Type: application/json
    X-Kizuna-Event: deal.won
    X-Kizuna-Delivery: <event id, the same for every retry>
    X-Kizuna-Timestamp: <unix seconds>
    X-Kizuna-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

    {"id": "<event id>", "event": "deal.won", "created_at": "...", "data": {...}}

Delivery is at least once: a receiver should ignore a delivery id it has
already processed.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.automation.models import WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

USER_AGENT = "Kizuna-Webhook/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def emit_event(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription to it (after commit)."""
    if event not in WebhookEvent.values:
        raise ValidationError({"event": _("Unknown webhook event.")})
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    subscriptions = [
        s for s in WebhookSubscription.objects.filter(is_active=True) if event in s.events
    ]
    if not subscriptions:
        return []
    event_id = uuid.uuid4()
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                subscription=s, event=event, event_id=event_id, payload=data
            )
            for s in subscriptions
        ]
        for delivery in deliveries:
            queue_delivery(delivery.pk)
    return deliveries


# Deliveries a rule's "call a webhook" action makes (not a subscribable event).
RULE_EVENT = "rule.fired"


def deliver_rule_event(
    *, subscription_id: int, payload: dict[str, Any], run_id: int
) -> WebhookDelivery:
    """Queue one signed delivery of a rule's payload (after commit).

    The event id is derived from the rule run, so an action that is carried
    out again (a retried run) reuses its delivery instead of sending twice.
    """
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    if not subscription.is_active:
        raise ValidationError(_("The webhook %(name)s is disabled.") % {"name": subscription.name})
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kizuna:rule-run:{run_id}:{subscription.pk}")
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    delivery, created = WebhookDelivery.objects.get_or_create(
        subscription=subscription,
        event_id=event_id,
        defaults={"event": RULE_EVENT, "payload": data},
    )
    if created:
        queue_delivery(delivery.pk)
    return delivery


def _report_rule_failure(delivery: WebhookDelivery) -> None:
    """A rule's webhook call failed for good: say so in the rule's run log."""
    from kizuna.automation.models import RuleRun

    run_id = (delivery.payload or {}).get("run")
    if not isinstance(run_id, int):
        return
    run = RuleRun.objects.select_related("rule").filter(pk=run_id).first()
    if run is None:
        return
    error = _("Webhook delivery #%(id)s failed: %(error)s") % {
        "id": delivery.pk,
        "error": delivery.error or f"HTTP {delivery.response_code}",
    }
    run.outcome = RuleRun.Outcome.FAILED
    run.error = (f"{run.error}\n{error}" if run.error else error)[:5000]
    run.save(update_fields=["outcome", "error"])
    from kizuna.automation.rules import _notify_admins

    _notify_admins(
        run.rule,
        run,
        gettext_lazy("The rule %(name)s failed on %(record)s: %(error)s"),
        {"name": run.rule.name, "record": run.object_repr, "error": error[:200]},
    )


def queue_delivery(delivery_id: int) -> None:
    from kizuna.automation.tasks import deliver_webhook

    transaction.on_commit(lambda: deliver_webhook(delivery_id))


def _body(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery):
    """POST once; returns (status code or None, response text, error text)."""
    body = _body(delivery)
    timestamp = int(time.time())
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Kizuna-Event": delivery.event,
            "X-Kizuna-Delivery": str(delivery.event_id),
            "X-Kizuna-Timestamp": str(timestamp),
            "X-Kizuna-Signature": sign(subscription.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.KIZUNA_WEBHOOK_TIMEOUT) as resp:
            return resp.status, resp.read(2000).decode(errors="replace"), ""
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode(errors="replace") if exc.fp else ""
        return exc.code, text, f"HTTP {exc.code}"
    except TimeoutError:
        return (
            None,
            "",
            _("No answer within %(seconds)s s.")
            % {"seconds": f"{settings.KIZUNA_WEBHOOK_TIMEOUT:g}"},
        )
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return (
                None,
                "",
                _("No answer within %(seconds)s s.")
                % {"seconds": f"{settings.KIZUNA_WEBHOOK_TIMEOUT:g}"},
            )
        return None, "", str(reason)[:500]


def deliver(*, delivery_id: int, retries_left: int) -> bool:
    """Make one attempt; False when it failed and should be tried again.

    No database transaction is open while the endpoint is called: a slow
    endpoint must not hold a write lock.
    """
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (
        WebhookDelivery.Status.SUCCEEDED,
        WebhookDelivery.Status.FAILED,
    ):
        return True  # deleted, or already done by an earlier run
    subscription = delivery.subscription
    if not subscription.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, error=_("The webhook is disabled.")
        )
        return True
    code, text, error = _post(subscription, delivery)
    now = timezone.now()
    ok = code is not None and 200 <= code < 300
    with transaction.atomic():
        fields: dict[str, Any] = {
            "attempts": F("attempts") + 1,
            "last_attempt_at": now,
            "response_code": code,
            "response_body": text,
            "error": error,
        }
        if ok:
            fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, error="")
            WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
            return True
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        disabled = False
        if (
            subscription.is_active
            and subscription.consecutive_failures >= settings.KIZUNA_WEBHOOK_MAX_FAILURES
        ):
            _disable(subscription, error or f"HTTP {code}", now)
            disabled = True
        retry = retries_left > 0 and not disabled
        fields["status"] = (
            WebhookDelivery.Status.RETRYING if retry else WebhookDelivery.Status.FAILED
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        if not retry and delivery.event == RULE_EVENT:
            delivery.refresh_from_db()
            _report_rule_failure(delivery)
    return not retry


def _disable(subscription: WebhookSubscription, error: str, now) -> None:
    from kizuna.automation.services import notify
    from kizuna.iam.models import User

    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = (
        _("%(count)s failed attempts in a row; the last: %(error)s")
        % {"count": subscription.consecutive_failures, "error": error}
    )[:300]
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    admins = User.objects.filter(Q(is_org_admin=True) | Q(is_superuser=True), is_active=True)
    notify(
        recipients=admins,
        kind="webhook_disabled",
        text=gettext_lazy(
            "The webhook %(name)s was disabled after %(count)s failed deliveries in a row."
        ),
        params={"name": subscription.name, "count": subscription.consecutive_failures},
        url=f"/settings/webhooks/{subscription.pk}/",
        dedupe_key=f"webhook:{subscription.pk}:disabled:{now.isoformat()}",
    )
