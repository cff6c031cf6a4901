"""@mentions in notes: stored, notified (only to who may see), linked."""

import pytest

from kizuna.activities import mentions
from kizuna.activities.models import Mention
from kizuna.activities.services import activity_create, activity_update
from kizuna.automation.models import Notification
from tests.factories import CompanyFactory


@pytest.fixture
def people(org):
    org.rep.display_name = "山田 花子"
    org.rep.save()
    org.colleague.display_name = "鈴木"
    org.colleague.save()
    mentions.clear_cache()
    return org


def test_names_end_without_spaces():
    class U:
        def __init__(self, pk, username, display_name):
            self.pk, self.username, self.display_name = pk, username, display_name

    a, b = U(1, "hanako", "山田 花子"), U(2, "suzuki", "鈴木")
    text = "@山田花子、確認お願いします。@suzuki も。メール a@b.example は違う"
    found = [(text[s:e], u.pk) for s, e, u in mentions.find(text, [a, b])]
    assert found == [("@山田花子", 1), ("@suzuki", 2)]


@pytest.mark.django_db
def test_a_note_mentions_and_notifies_who_may_see_it(people):
    org = people
    company = CompanyFactory(owner=org.colleague)
    note = activity_create(
        actor=org.colleague,
        kind="note",
        subject="打ち合わせメモ",
        body="@rep 見積の件お願いします。@outsider にも共有? @鈴木",
        company=company,
    )
    assert set(Mention.objects.filter(activity=note).values_list("user__username", flat=True)) == {
        "rep",
        "outsider",
        "colleague",
    }
    notified = Notification.objects.filter(kind="mention")
    # The outsider (other team) may not see the note; the author is not told.
    assert list(notified.values_list("recipient__username", flat=True)) == ["rep"]
    assert notified.get().url == f"/activities/{note.pk}/"

    # Editing the note does not notify again; a new mention does.
    activity_update(actor=org.colleague, activity=note, body=note.body + " @admin")
    assert sorted(notified.values_list("recipient__username", flat=True)) == ["admin", "rep"]


@pytest.mark.django_db
def test_mentions_render_as_links_and_escape(people, client):
    org = people
    html = mentions.render("<b>@rep</b> さん")
    assert html.startswith('&lt;b&gt;<a class="mention"')
    assert f"?owner={org.rep.pk}" in html and "@rep</a>" in html

    client.force_login(org.rep)
    body = client.get("/activities/mentions/", {"q": "山"}).content.decode()
    assert 'data-name="山田花子"' in body
    assert "outsider" not in client.get("/activities/mentions/", {"q": "rep"}).content.decode()


@pytest.mark.django_db
def test_timeline_with_many_mentions_reads_users_once(
    people, client, django_assert_max_num_queries
):
    org = people
    company = CompanyFactory(owner=org.rep)
    for i in range(3):
        activity_create(actor=org.rep, kind="note", subject=f"n{i}", body="@鈴木", company=company)
    client.force_login(org.rep)
    client.get(f"/companies/{company.pk}/")
    mentions.clear_cache()
    with django_assert_max_num_queries(60) as few:
        client.get(f"/companies/{company.pk}/")
    for i in range(10):
        activity_create(actor=org.rep, kind="note", subject=f"m{i}", body="@鈴木", company=company)
    mentions.clear_cache()
    with django_assert_max_num_queries(len(few) + 2):
        client.get(f"/companies/{company.pk}/")
