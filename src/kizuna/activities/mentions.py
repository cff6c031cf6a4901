"""@mentions: ``@username`` or ``@表示名`` in an activity's text.

Japanese has no spaces to end a name, so a mention is the longest user name
or display name that follows the ``@``, not a regular expression match.
"""

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy


def _ends_word(text: str, end: int, name: str) -> bool:
    """A Latin name must not run on (``@rep`` is not ``@repair``); a
    Japanese or Korean one may be followed by anything (``@山田さん``)."""
    if end == len(text) or not name[-1].isascii():
        return True
    nxt = text[end]
    return not (nxt.isascii() and (nxt.isalnum() or nxt in "_-"))


def _names(users) -> list[tuple[str, Any]]:
    pairs = []
    for user in users:
        for name in {user.username, user.display_name.replace(" ", ""), user.display_name}:
            if name:
                pairs.append((name, user))
    return sorted(pairs, key=lambda p: -len(p[0]))


def find(text: str, users=None) -> list[tuple[int, int, Any]]:
    """(start, end, user) of each mention in ``text``; start is the @."""
    if "@" not in (text or "") and "＠" not in (text or ""):
        return []
    if users is None:
        users = (
            get_user_model().objects.filter(is_active=True).only("id", "username", "display_name")
        )
    names = _names(users)
    found = []
    i = 0
    while i < len(text):
        if text[i] in "@＠" and (i == 0 or not text[i - 1].isalnum()):
            for name, user in names:
                end = i + 1 + len(name)
                if text.startswith(name, i + 1) and _ends_word(text, end, name):
                    found.append((i, end, user))
                    i = end - 1
                    break
        i += 1
    return found


def sync(*, actor, activity) -> list:
    """Store the activity's mentions; notify each newly mentioned user who
    may see it. Returns the users newly mentioned."""
    from kizuna.activities.models import Mention
    from kizuna.automation.services import notify

    users = {u.pk: u for _s, _e, u in find(f"{activity.subject}\n{activity.body}")}
    existing = set(Mention.objects.filter(activity=activity).values_list("user_id", flat=True))
    Mention.objects.filter(activity=activity).exclude(user_id__in=list(users)).delete()
    new = [u for pk, u in users.items() if pk not in existing]
    Mention.objects.bulk_create([Mention(activity=activity, user=u) for u in new])
    clear_cache()
    recipients = [u for u in new if u.pk != actor.pk]
    if recipients:
        notify(
            recipients=recipients,
            kind="mention",
            text=gettext_lazy("%(actor)s mentioned you in “%(subject)s”"),
            params={"actor": str(actor), "subject": activity.subject},
            url=reverse("activities:activity_detail", args=[activity.pk]),
            obj=activity,
            dedupe_key=f"mention:{activity.pk}",
        )
    return new


_cache: dict[str, tuple[float, list]] = {}
CACHE_SECONDS = 10.0


def _display_users() -> list:
    """Active users for rendering, kept a few seconds: a timeline of 25 notes
    with mentions reads them once, not 25 times."""
    now = time.monotonic()
    hit = _cache.get("users")
    if hit is None or now - hit[0] > CACHE_SECONDS:
        users = list(
            get_user_model().objects.filter(is_active=True).only("id", "username", "display_name")
        )
        hit = _cache["users"] = (now, users)
    return hit[1]


def clear_cache() -> None:
    _cache.clear()


def render(text: str, users=None) -> SafeString:
    """The text, escaped, with each mention as a link to the user's activities."""
    out: list[str] = []
    last = 0
    if "@" not in text and "＠" not in text:
        return escape(text)
    for start, end, user in find(text, users if users is not None else _display_users()):
        out.append(escape(text[last:start]))
        url = reverse("activities:activity_list") + f"?owner={user.pk}"
        out.append(f'<a class="mention" href="{url}">{escape(text[start:end])}</a>')
        last = end
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def candidates(query: str, limit: int = 8) -> list:
    """Active users whose user name or display name starts with ``query``."""
    from django.db.models import Q

    query = query.lstrip("@＠").strip()
    qs = get_user_model().objects.filter(is_active=True)
    if query:
        qs = qs.filter(Q(username__istartswith=query) | Q(display_name__istartswith=query))
    return list(qs.order_by("display_name", "username")[:limit])
