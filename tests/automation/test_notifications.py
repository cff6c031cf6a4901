"""The notification centre: notify(), dedupe, languages, access, the pages."""

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from kizuna.automation.models import Notification
from kizuna.automation.services import notify
from kizuna.customers.services import company_create
from kizuna.iam.selectors import managers_of
from tests.factories import RoleFactory, UserFactory


@pytest.mark.django_db
def test_notify_renders_in_each_recipients_language(org):
    org.rep.language = "ja"
    org.manager.language = "ko"
    created = notify(
        recipients=[org.rep, org.manager, org.admin],
        kind="test",
        text=gettext_lazy("Saved."),
        url="/companies/",
    )
    texts = {n.recipient.username: n.text for n in created}
    assert texts == {"rep": "保存しました。", "manager": "저장했습니다.", "admin": "Saved."}


@pytest.mark.django_db
def test_notify_fills_in_params(org):
    (n,) = notify(
        recipients=[org.rep],
        kind="test",
        text=gettext_lazy("Page %(number)s of %(total)s"),
        params={"number": 2, "total": 5},
    )
    assert n.text == "Page 2 of 5"


@pytest.mark.django_db
def test_a_dedupe_key_notifies_once(org):
    for _ in range(3):
        notify(recipients=[org.rep, org.rep], kind="stalled", text="x", dedupe_key="deal:1:stalled")
    notify(recipients=[org.rep, org.manager], kind="stalled", text="x", dedupe_key="deal:1:stalled")
    assert Notification.objects.filter(recipient=org.rep).count() == 1
    assert Notification.objects.filter(recipient=org.manager).count() == 1
    notify(recipients=[org.rep], kind="stalled", text="x", dedupe_key="deal:2:stalled")
    notify(recipients=[org.rep], kind="plain", text="x")
    notify(recipients=[org.rep], kind="plain", text="x")
    assert Notification.objects.filter(recipient=org.rep).count() == 4


@pytest.mark.django_db
def test_only_recipients_who_see_the_record_are_told(org):
    company = company_create(actor=org.rep, name="極秘商事")
    created = notify(
        recipients=[org.rep, org.manager, org.outsider, org.colleague],
        kind="company",
        text="x",
        url=f"/companies/{company.pk}/",
        obj=company,
    )
    # The manager sees the rep's records through the role hierarchy; the
    # colleague through the team; the outsider not at all.
    assert {n.recipient.username for n in created} == {"rep", "manager", "colleague"}
    assert created[0].object_type == "company"
    assert created[0].object_id == company.pk


@pytest.mark.django_db
def test_inactive_users_get_nothing(org):
    org.colleague.is_active = False
    org.colleague.save()
    assert notify(recipients=[org.colleague], kind="k", text="x") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"url": "javascript:alert(1)"},
        {"url": "//evil.example/"},
        {"url": "https://evil.example/"},
        {"kind": ""},
        {"kind": "k" * 51},
        {"dedupe_key": ""},
    ],
)
def test_bad_input_writes_nothing(org, bad):
    with pytest.raises(ValidationError):
        notify(**{"recipients": [org.rep], "kind": "k", "text": "x", **bad})
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_managers_come_from_the_role_hierarchy(org):
    assert managers_of(org.rep) == [org.manager]
    assert managers_of(org.manager) == []
    assert managers_of(org.admin) == []  # no role
    # A vacant manager role passes the escalation on to the role above it.
    director_role = RoleFactory(name="director")
    org.manager.role.parent = director_role
    org.manager.role.save()
    director = UserFactory(username="director", role=director_role)
    org.manager.is_active = False
    org.manager.save()
    assert managers_of(org.rep) == [director]


@pytest.mark.django_db
def test_bell_and_centre(client, org):
    notify(recipients=[org.rep], kind="k", text="first news", url="/companies/")
    notify(recipients=[org.rep], kind="k", text="second news")
    notify(recipients=[org.colleague], kind="k", text="not for rep")
    client.force_login(org.rep)
    assert "notification-bell" in client.get("/").content.decode()
    bell = client.get("/notifications/bell/").content.decode()
    assert '<span class="count">2</span>' in bell
    page = client.get("/notifications/").content.decode()
    assert "first news" in page and "second news" in page and "not for rep" not in page

    first = Notification.objects.get(text="first news")
    response = client.post(f"/notifications/{first.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/companies/"
    assert '<span class="count">1</span>' in client.get("/notifications/bell/").content.decode()
    assert "first news" not in client.get("/notifications/?unread=1").content.decode()

    client.post("/notifications/read-all/")
    assert 'class="count"' not in client.get("/notifications/bell/").content.decode()
    assert Notification.objects.get(text="not for rep").read_at is None


@pytest.mark.django_db
def test_someone_elses_notification_is_missing(client, org):
    (n,) = notify(recipients=[org.colleague], kind="k", text="private")
    client.force_login(org.rep)
    assert client.post(f"/notifications/{n.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{n.pk}/open/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None
