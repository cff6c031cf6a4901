"""Merge and un-merge in the database."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from kizuna.activities.models import Activity
from kizuna.activities.services import activity_create
from kizuna.core.models import AuditEntry, Share
from kizuna.customers import services as customers
from kizuna.customers.models import Company, Contact, ContactEmployment, Lead
from kizuna.dedup import services
from kizuna.dedup.merging import GENERIC_MODELS, MODELS, relations
from kizuna.dedup.models import DuplicateCandidate, Merge
from kizuna.sales import services as sales
from kizuna.sales.models import DealContact

pytestmark = pytest.mark.django_db


@pytest.fixture
def abc(org):
    return customers.company_create(actor=org.rep, name="株式会社ＡＢＣ")


@pytest.fixture
def pair(org, abc):
    kanji = customers.contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["taro@abc.co.jp"],
        phones=["090-1111-2222"],
        tags=["展示会"],
        title="部長",
    )
    kana = customers.contact_create(
        actor=org.rep,
        family_name="ｻﾄｳ",
        given_name="ﾀﾛｳ",
        company=abc,
        emails=["TARO@abc.co.jp", "taro.private@gmail.com"],
        phones=["03-5555-6666"],
        tags=["展示会", "VIP"],
    )
    return kanji, kana


def test_every_relation_to_a_customer_record_is_moved():
    """A foreign key added later to a company, contact or lead is covered by the merge."""
    from django.apps import apps

    for model in MODELS.values():
        covered = {(r.related_model, r.field.name) for r in relations(model)}
        for other in apps.get_models(include_auto_created=True):
            for field in other._meta.get_fields():
                if isinstance(field, models.ForeignKey) and field.related_model is model:
                    assert (other, field.name) in covered, f"{other.__name__}.{field.name}"
    for label in GENERIC_MODELS:
        fields = {f.name for f in apps.get_model(label)._meta.fields}
        assert {"object_type", "object_id"} <= fields


def test_merge_moves_everything_and_undo_puts_it_back(org, abc, pair):
    kanji, kana = pair
    call = activity_create(actor=org.rep, kind="call", subject="電話 1", contact=kanji)
    visit = activity_create(actor=org.rep, kind="visit", subject="訪問 2", contact=kana)
    deal = sales.deal_create(actor=org.rep, name="案件", company=abc, contacts=[(kana, "other")])
    sales.deal_update(actor=org.rep, deal=deal, contacts=[(kana, "other"), (kanji, "user")])
    Share.objects.create(object_type="contact", object_id=kana.pk, user=org.colleague)
    lead = customers.lead_create(actor=org.rep, family_name="佐藤", channel="web_form")
    Lead.objects.filter(pk=lead.pk).update(converted_contact=kana)

    merge = services.record_merge(
        actor=org.rep,
        entity="contact",
        survivor=kanji,
        others=[kana],
        choices={"title": kanji.pk},
    )

    assert not Contact.objects.filter(pk=kana.pk).exists()
    survivor = Contact.objects.get(pk=kanji.pk)
    assert survivor.family_name == "ｻﾄｳ" or survivor.family_name == "佐藤"
    assert survivor.title == "部長"
    assert set(Activity.objects.filter(contact=survivor).values_list("pk", flat=True)) == {
        call.pk,
        visit.pk,
    }
    emails = list(survivor.emails.values_list("email", flat=True))
    assert sorted(e.lower() for e in emails) == ["taro.private@gmail.com", "taro@abc.co.jp"]
    assert {p for p in survivor.phones.values_list("number", flat=True)} == {
        "+819011112222",
        "+81355556666",
    }
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["VIP", "展示会"]
    assert list(DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True)) == [
        kanji.pk
    ]
    assert Share.objects.get(user=org.colleague).object_id == kanji.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == kanji.pk
    assert ContactEmployment.objects.filter(contact=survivor).count() == 2
    entry = AuditEntry.objects.filter(object_type="contact", object_id=kanji.pk).first()
    assert entry.changes["merged"] == [None, [kana.pk]]
    assert AuditEntry.objects.filter(
        object_type="contact", object_id=kana.pk, action="delete"
    ).exists()

    services.merge_undo(actor=org.rep, merge=merge)

    restored = Contact.objects.get(pk=kana.pk)
    assert restored.family_name == "ｻﾄｳ"
    assert list(Activity.objects.filter(contact=restored).values_list("pk", flat=True)) == [
        visit.pk
    ]
    assert sorted(restored.emails.values_list("email", flat=True)) == [
        "TARO@abc.co.jp",
        "taro.private@gmail.com",
    ]
    assert sorted(restored.tags.values_list("name", flat=True)) == ["VIP", "展示会"]
    survivor = Contact.objects.get(pk=kanji.pk)
    assert list(survivor.emails.values_list("email", flat=True)) == ["taro@abc.co.jp"]
    assert sorted(
        DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True)
    ) == sorted([kanji.pk, kana.pk])
    assert Share.objects.get(user=org.colleague).object_id == kana.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == kana.pk
    assert Merge.objects.get().undone_at is not None
    with pytest.raises(ValidationError, match="already been undone"):
        services.merge_undo(actor=org.rep, merge=merge)


def test_default_values_are_the_newest_non_empty(org, pair):
    kanji, kana = pair
    customers.contact_update(actor=org.rep, contact=kana, department="営業部")
    services.record_merge(actor=org.rep, entity="contact", survivor=kanji, others=[kana])
    survivor = Contact.objects.get(pk=kanji.pk)
    assert survivor.department == "営業部"  # only the newer record had one
    assert survivor.family_name == "佐藤"  # kanji wins over a newer name only in kana
    assert survivor.given_name == "太郎"
    assert survivor.title == "部長"  # the newer record's title is empty


def test_a_newer_kanji_name_wins_and_kana_only_names_keep_newest(org):
    old = customers.contact_create(actor=org.rep, family_name="斉藤", given_name="一")
    new = customers.contact_create(actor=org.rep, family_name="齋藤", given_name="一")
    services.record_merge(actor=org.rep, entity="contact", survivor=old, others=[new])
    assert Contact.objects.get(pk=old.pk).family_name == "齋藤"
    a = customers.contact_create(actor=org.rep, family_name="ｻﾄｳ", given_name="ﾀﾛｳ")
    b = customers.contact_create(actor=org.rep, family_name="サトウ", given_name="タロウ")
    services.record_merge(actor=org.rep, entity="contact", survivor=a, others=[b])
    assert Contact.objects.get(pk=a.pk).family_name == "サトウ"


def test_undo_refuses_after_the_survivor_was_edited(org, pair):
    kanji, kana = pair
    merge = services.record_merge(actor=org.rep, entity="contact", survivor=kanji, others=[kana])
    customers.contact_update(actor=org.rep, contact=Contact.objects.get(pk=kanji.pk), title="社長")
    with pytest.raises(ValidationError, match="edited since the merge"):
        services.merge_undo(actor=org.rep, merge=merge)
    assert not Contact.objects.filter(pk=kana.pk).exists()


def test_undo_refuses_when_a_moved_row_belongs_elsewhere_now(org, pair):
    kanji, kana = pair
    other = customers.contact_create(actor=org.rep, family_name="田中")
    visit = activity_create(actor=org.rep, kind="visit", subject="訪問", contact=kana)
    merge = services.record_merge(actor=org.rep, entity="contact", survivor=kanji, others=[kana])
    Activity.objects.filter(pk=visit.pk).update(contact=other)
    with pytest.raises(ValidationError, match="belong to another record"):
        services.merge_undo(actor=org.rep, merge=merge)


def test_merge_needs_edit_access_to_every_record(org, abc, pair):
    kanji, _kana = pair
    theirs = customers.contact_create(actor=org.outsider, family_name="佐藤", given_name="太郎")
    with pytest.raises(PermissionDenied):
        services.record_merge(actor=org.rep, entity="contact", survivor=kanji, others=[theirs])
    assert Contact.objects.filter(pk=theirs.pk).exists()


def test_merge_marks_the_queue_pair_merged_and_undo_reopens_it(org, pair):
    kanji, kana = pair
    candidate = services.candidate_add(
        entity="contact", a_id=kanji.pk, b_id=kana.pk, score=0.9, evidence=[], source="scan"
    )
    merge = services.record_merge(actor=org.rep, entity="contact", survivor=kana, others=[kanji])
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.MERGED
    services.merge_undo(actor=org.rep, merge=merge)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN


def test_company_merge_moves_contacts_children_and_deals(org, abc):
    other = customers.company_create(actor=org.rep, name="(株)ABC", phone="03-1234-5678")
    site = customers.company_create(actor=org.rep, name="ABC 大阪工場", parent=other)
    plant = customers.company_create(actor=org.rep, name="ABC 堺ライン", parent=site)
    person = customers.contact_create(actor=org.rep, family_name="鈴木", company=other)
    deal = sales.deal_create(actor=org.rep, name="案件", company=other)
    merge = services.record_merge(actor=org.rep, entity="company", survivor=abc, others=[other])
    survivor = Company.objects.get(pk=abc.pk)
    assert survivor.phone == "+81312345678"
    site.refresh_from_db()
    plant.refresh_from_db()
    assert site.parent_id == abc.pk and site.path == f"/{abc.pk}/{site.pk}/"
    assert plant.path == f"/{abc.pk}/{site.pk}/{plant.pk}/"
    assert Contact.objects.get(pk=person.pk).company_id == abc.pk
    deal.refresh_from_db()
    assert deal.company_id == abc.pk
    services.merge_undo(actor=org.rep, merge=merge)
    site.refresh_from_db()
    plant.refresh_from_db()
    assert site.parent_id == other.pk and site.path == f"/{other.pk}/{site.pk}/"
    assert plant.path == f"/{other.pk}/{site.pk}/{plant.pk}/"
    assert Company.objects.get(pk=other.pk).name == "(株)ABC"
    assert Company.objects.get(pk=abc.pk).phone == ""


def test_a_company_cannot_merge_into_its_own_part(org, abc):
    site = customers.company_create(actor=org.rep, name="ABC 工場", parent=abc)
    with pytest.raises(ValidationError, match="merge the other way round"):
        services.record_merge(actor=org.rep, entity="company", survivor=site, others=[abc])


def test_lead_merge_and_choices_are_validated(org):
    a = customers.lead_create(
        actor=org.rep, family_name="金", email="kim@hanbit.kr", channel="web_form"
    )
    b = customers.lead_create(
        actor=org.rep, family_name="金", phone="+82 10-1234-5678", channel="seminar"
    )
    with pytest.raises(ValidationError):
        services.record_merge(
            actor=org.rep, entity="lead", survivor=a, others=[b], choices={"email": 999}
        )
    with pytest.raises(ValidationError):
        services.record_merge(
            actor=org.rep, entity="lead", survivor=a, others=[b], choices={"version": a.pk}
        )
    services.record_merge(
        actor=org.rep, entity="lead", survivor=a, others=[b], choices={"channel": a.pk}
    )
    lead = Lead.objects.get(pk=a.pk)
    assert (lead.email, lead.phone, lead.channel) == ("kim@hanbit.kr", "+821012345678", "web_form")
