"""Matching rows against the database: the contract the import relies on."""

import pytest

from kizuna.customers import services as customers
from kizuna.dedup import services
from kizuna.dedup.engine import Band, Rule
from kizuna.dedup.lookup import Matcher, match_one
from kizuna.dedup.models import DuplicateCandidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def abc(org):
    return customers.company_create(actor=org.admin, name="株式会社ＡＢＣ", phone="03-1234-0000")


@pytest.fixture
def sato(org, abc):
    return customers.contact_create(
        actor=org.admin,
        family_name="佐藤",
        given_name="太郎",
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        company=abc,
        emails=["Taro.Sato@abc.co.jp"],
        phones=["090-1111-2222"],
    )


def test_half_width_kana_row_finds_kanji_contact_by_email_and_company(sato):
    matcher = Matcher.load("contact")
    [found] = matcher.match(
        [{"full_name": "ｻﾄｳ ﾀﾛｳ", "company": "(株)ABC", "email": "taro.sato@ABC.co.jp"}]
    )
    assert found is not None
    assert found.record_id == sato.pk
    assert found.band == Band.MERGE
    assert "e-mail same" in found.explanation
    assert "name sounds alike" in found.explanation
    assert "company same" in found.explanation
    assert {e.column for e in found.evidence} >= {"full_name", "email", "company"}


def test_rows_without_a_match_get_none(sato):
    matcher = Matcher.load("contact")
    assert matcher.match([{"full_name": "山田 花子", "email": "hanako@xyz.jp"}, {}]) == [None, None]


def test_colleague_sharing_info_address_and_main_line_is_not_a_match(org, abc, sato):
    customers.contact_create(
        actor=org.admin,
        family_name="鈴木",
        given_name="一郎",
        company=abc,
        emails=["info@abc.co.jp"],
        phones=["03-1234-0000"],
    )
    matcher = Matcher.load("contact")
    [found] = matcher.match(
        [
            {
                "family_name": "田中",
                "given_name": "次郎",
                "company": "ABC㈱",
                "email": "info@abc.co.jp",
                "phone": "0312340000",
            }
        ]
    )
    assert found is None


def test_same_name_at_another_company_is_never_merge(org, sato):
    matcher = Matcher.load("contact")
    [found] = matcher.match(
        [
            {
                "family_name": "佐藤",
                "given_name": "太郎",
                "company": "株式会社XYZ",
                "phone": "090-1111-2222",
            }
        ]
    )
    assert found is not None
    assert found.band == Band.REVIEW
    assert Rule.DIFFERENT_COMPANY in found.rules


def test_load_respects_visibility(org, sato):
    assert Matcher.load("contact", user=org.outsider).ids == []
    assert Matcher.load("contact", user=org.rep).ids == [sato.pk]


def test_a_load_for_a_user_does_not_list_every_phone_in_one_query(org, sato, monkeypatch):
    """A database refuses an IN of every stored number; a large load reads all lines."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kizuna.dedup import lookup

    for i in range(4):
        customers.contact_create(actor=org.rep, family_name=f"既存{i}", phones=[f"03-5555-{i:04d}"])
    monkeypatch.setattr(lookup, "CHUNK", 3)
    with CaptureQueriesContext(connection) as queries:
        matcher = Matcher.load("contact", user=org.rep)
    assert max(q["sql"].count("+81355550") for q in queries) == 0
    assert len(matcher.ids) == 5
    [found] = [m for m in matcher.match([{"family_name": "佐藤", "phone": "090-1111-2222"}]) if m]
    assert found.record_id == sato.pk


def test_company_lookup(org, abc):
    matcher = Matcher.load("company")
    found = matcher.match([{"name": "ABC株式会社", "phone": "+81 3-1234-0000"}, {"name": "XYZ"}])
    assert found[0] is not None and found[0].record_id == abc.pk
    assert found[0].band == Band.MERGE
    assert found[1] is None


def test_lead_lookup(org):
    lead = customers.lead_create(
        actor=org.admin,
        family_name="金",
        given_name="민준",
        company_name="주식회사 한빛",
        email="minjun@hanbit.kr",
        channel="web_form",
    )
    [found] = Matcher.load("lead").match(
        [{"full_name": "金 민준", "company": "(주)한빛", "email": "MINJUN@hanbit.kr"}]
    )
    assert found is not None and found.record_id == lead.pk and found.band == Band.MERGE


def test_match_one_reads_only_candidates_and_respects_access(org, sato):
    row = {"family_name": "ｻﾄｳ", "given_name": "ﾀﾛｳ", "company": "(株)ABC"}
    [found] = match_one("contact", row, user=org.rep)
    assert found.record_id == sato.pk
    assert match_one("contact", row, user=org.outsider) == []
    [by_mail] = match_one("contact", {"email": "taro.sato@abc.co.jp"}, user=org.admin)
    assert by_mail.record_id == sato.pk


def test_candidate_add_is_idempotent_per_pair(sato):
    first = services.candidate_add(
        entity="contact",
        a_id=9,
        b_id=3,
        score=0.7,
        evidence=[],
        source="import",
        import_batch_id=5,
    )
    again = services.candidate_add(
        entity="contact", a_id=3, b_id=9, score=0.8, evidence=[], source="scan"
    )
    assert (first.pk, first.a_id, first.b_id) == (again.pk, 3, 9)
    assert again.score == 0.8
    assert DuplicateCandidate.objects.count() == 1
    assert services.candidates_delete_for_batch(import_batch_id=5) == 1
    assert not DuplicateCandidate.objects.exists()


def test_candidate_add_refuses_a_record_with_itself():
    with pytest.raises(ValueError):
        services.candidate_add(
            entity="contact", a_id=1, b_id=1, score=1, evidence=[], source="scan"
        )


@pytest.mark.parametrize(
    "raw,region",
    [
        ("03-1234-5678", "JP"),
        ("090-1111-2222", "JP"),
        ("0312345678", "JP"),
        ("(03) 1234 5678", "JP"),
        ("010-1234-5678", "KR"),
        ("010-1234-5678", "JP"),
        ("080-1234-5678", "KR"),
        ("031-123-4567", "KR"),
        ("０３－１２３４－５６７８", "JP"),
    ],
)
def test_the_plain_domestic_path_agrees_with_phonenumbers(raw, region):
    import phonenumbers

    from kizuna.core.text import plain_domestic_e164

    fast = plain_domestic_e164(raw, region)
    if fast:
        number = phonenumbers.parse(raw, region)
        assert fast == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    "raw",
    [
        "Taro@ABC.co.jp",
        " taro+news@abc.co.jp ",
        "t.a.r.o@GoogleMail.com",
        "<taro@abc.co.jp>",
        "ｔａｒｏ＠ａｂｃ．ｃｏ．ｊｐ",
        "営業@abc.co.jp",
        "no-at-sign",
        "@abc.co.jp",
        "taro@localhost",
        "İnfo@abc.com",
    ],
)
def test_email_key_agrees_with_core_text(raw):
    from kizuna.core import text
    from kizuna.dedup.lookup import _email_key

    assert _email_key(raw) == text.normalize_email(raw)
