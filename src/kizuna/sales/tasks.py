"""Periodic hygiene alerts: stalled deals, deals without a next action, overdue next actions."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.automation.jobs import crontab, periodic_task
from kizuna.sales.models import Deal
from kizuna.sales.selectors import no_next_action_q, open_stages, overdue_q, stalled_q

STALLED = _("%(deal)s (%(company)s) has had no stage change or activity for %(days)s days.")
NO_NEXT_ACTION = _("%(deal)s (%(company)s) has no next action.")
OVERDUE = _("The next action of %(deal)s (%(company)s) was due on %(date)s.")


def alert_deal_hygiene(now=None) -> int:
    """Notify each open deal's owner and the owner's managers, once per condition.

    The dedupe keys make a second run on the same day (a retry, two workers) a no-op
    and alert again only when the condition starts anew (a new stall after an activity,
    a new stage without a next action, a new due date missed).
    """
    from kizuna.automation.services import notify
    from kizuna.iam.selectors import managers_of

    now = now or timezone.now()
    stages = open_stages()
    open_deals = Deal.objects.filter(status=Deal.Status.OPEN).select_related(
        "owner", "company", "stage__pipeline"
    )
    managers: dict[int, list] = {}
    sent = 0

    def send(deal: Deal, kind: str, text, params: dict, key: str) -> None:
        nonlocal sent
        if deal.owner_id not in managers:
            managers[deal.owner_id] = managers_of(deal.owner)
        params = {"deal": deal.name, "company": deal.company.name, **params}
        sent += len(
            notify(
                recipients=[deal.owner, *managers[deal.owner_id]],
                kind=kind,
                text=text,
                params=params,
                url=f"/deals/{deal.pk}/",
                obj=deal,
                dedupe_key=f"deal:{deal.pk}:{key}",
            )
        )

    for deal in open_deals.filter(stalled_q(stages, now)).iterator(chunk_size=500):
        days = (now - deal.last_touched_at).days
        send(
            deal, "deal_stalled", STALLED, {"days": days}, f"stalled:{deal.last_touched_at:%Y%m%d}"
        )
    for deal in open_deals.filter(no_next_action_q()).iterator(chunk_size=500):
        send(deal, "deal_no_next_action", NO_NEXT_ACTION, {}, f"no_next_action:{deal.stage_id}")
    today = timezone.localdate(now)
    for deal in open_deals.filter(overdue_q(today)).iterator(chunk_size=500):
        due = deal.next_action_due
        send(deal, "deal_overdue", OVERDUE, {"date": f"{due:%Y-%m-%d}"}, f"overdue:{due:%Y%m%d}")
    return sent


@periodic_task(crontab(minute="0", hour="8"))
def deal_hygiene_alerts() -> None:
    alert_deal_hygiene()
