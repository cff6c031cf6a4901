# ruff: noqa: E501  (header synonyms and sample rows read best on one line)
import pytest

from kizuna.core import search
from kizuna.customers.models import Company, Contact, ContactEmail
from kizuna.customers.services import company_create, contact_create
from kizuna.imports import services
from kizuna.imports.models import ImportBatch, ImportRow

pytestmark = pytest.mark.django_db

CARDS = (
    "会社名,部署名,役職,姓,名,フリガナ,メールアドレス,電話番号,携帯電話,郵便番号,住所,名刺交換日\n"
    "株式会社ＡＢＣ,営業部,部長,佐藤,太郎,サトウ タロウ,taro@abc.co.jp,03-1234-5678,090-1111-2222,100-0001,東京都千代田区千代田1-1,令和8年1月2日\n"
    "(株)ABC,開発部,,鈴木,花子,スズキ ハナコ,hanako@abc.co.jp,03-1234-5679,,100-0001,東京都千代田区千代田1-1,2026/1/2\n"
    "山田商事,総務,,山田,一郎,,ichiro@yamada.jp,,,,,2026-01-02\n"
    "山田商事,総務,,山田,一郎,,ichiro@yamada.jp,06-1111-2222,,,,\n"
    "不明社,,,,,,bad-address,,,,,\n"
)


def test_shift_jis_business_cards_are_read_mapped_and_imported(org, do_import):
    batch = do_import(org.rep, "contact", CARDS)
    assert batch.encoding == "cp932"
    assert batch.mapping[:6] == [
        "company",
        "department",
        "title",
        "family_name",
        "given_name",
        "reading",
    ]
    assert batch.mapping[6:] == ["email", "phone", "phone", "postal_code", "address", "met_on"]
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.counts == {"create": 3, "skip": 1, "error": 1}
    taro = Contact.objects.get(family_name="佐藤")
    assert taro.family_name_reading == "サトウ" and taro.given_name_reading == "タロウ"
    assert [p.number for p in taro.phones.all()] == ["+81312345678", "+819011112222"]
    # ＡＢＣ and (株)ABC are one company, created once.
    assert Company.objects.filter(name_key="abc").count() == 1
    assert taro.company == Contact.objects.get(family_name="鈴木").company
    assert str(taro.employments.get().started_on) == "2026-01-02"
    # Search finds imported rows (the index is filled).
    assert list(search.filter_search(Contact.objects.all(), "さとう")) == [taro]
    yamada = Contact.objects.get(family_name="山田")
    assert [p.number for p in yamada.phones.all()] == ["+81611112222"]
    error = batch.rows.get(outcome=ImportRow.Outcome.ERROR)
    assert "bad-address" in error.message and "name" in error.message


def test_existing_contact_is_updated_and_undo_restores_it(org, do_import):
    abc = company_create(actor=org.rep, name="株式会社ABC")
    taro = contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        company=abc,
        emails=["taro@abc.co.jp"],
    )
    batch = do_import(org.rep, "contact", CARDS)
    row = batch.rows.get(number=2)
    assert row.outcome == ImportRow.Outcome.UPDATE and row.target_id == taro.pk
    assert set(row.changed_fields) >= {"title", "department", "phone"}
    taro.refresh_from_db()
    assert taro.title == "部長"
    assert taro.phones.count() == 2
    services.batch_undo(actor=org.rep, batch=batch)
    taro.refresh_from_db()
    assert taro.title == "" and taro.phones.count() == 0
    assert Contact.objects.count() == 1 and Company.objects.count() == 1
    assert ContactEmail.objects.count() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE


def test_undo_refuses_when_a_record_changed_later(org, do_import):
    from kizuna.customers.services import contact_update

    batch = do_import(org.rep, "contact", CARDS)
    taro = Contact.objects.get(family_name="佐藤")
    contact_update(actor=org.rep, contact=taro, title="社長")
    with pytest.raises(services.UndoConflict) as info:
        services.batch_undo(actor=org.rep, batch=batch)
    assert "佐藤 太郎" in str(info.value)
    services.batch_undo(actor=org.rep, batch=batch, force=True)
    assert not Contact.objects.exists()


def test_rows_matching_records_of_others_are_errors(org, do_import):
    contact_create(actor=org.outsider, family_name="佐藤", emails=["taro@abc.co.jp"])
    batch = do_import(org.rep, "contact", CARDS, start=False)
    row = batch.rows.get(number=2)
    assert row.outcome == ImportRow.Outcome.ERROR
    assert "No permission to update an existing record" in row.message


def test_utf8_bom_euc_kr_and_header_only(org, do_import, media):
    from django.core.exceptions import ValidationError

    from tests.imports.conftest import csv_file

    korean = "회사명,이름,이메일,전화번호\n주식회사 한빛,김민수,minsu@hanbit.kr,02-123-4567\n"
    batch = do_import(org.rep, "contact", korean, encoding="cp949")
    assert batch.encoding == "cp949"
    assert batch.mapping == ["company", "full_name", "email", "phone"]
    assert Contact.objects.get().family_name == "김민수"
    batch = do_import(
        org.rep, "lead", "\ufeff氏名,会社名,メール\n田中 一,ACME,t@acme.jp\n", encoding="utf-8"
    )
    assert batch.encoding == "utf-8-sig" and batch.status == "done"
    with pytest.raises(ValidationError):
        services.batch_upload(actor=org.rep, entity="contact", upload=csv_file("姓,名\n"))


def test_engine_merges_and_queues_probable_duplicates(org, do_import):
    from kizuna.dedup.models import DuplicateCandidate

    abc = company_create(actor=org.rep, name="株式会社ABC")
    taro = contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        company=abc,
        family_name_reading="サトウ",
        given_name_reading="タロウ",
        phones=["03-1234-5678"],
    )
    hanako = contact_create(
        actor=org.rep,
        family_name="鈴木",
        given_name="花子",
        company=abc,
    )
    batch = do_import(org.rep, "contact", CARDS)
    rows = {r.number: r for r in batch.rows.all()}
    assert rows[2].target_id == taro.pk, rows[2].message
    assert rows[2].outcome in ("merge", "review"), rows[2].message
    assert rows[3].target_id == hanako.pk, rows[3].message
    assert rows[3].message, rows[3].outcome
    reviews = [r for r in rows.values() if r.outcome == "review"]
    assert DuplicateCandidate.objects.filter(import_batch_id=batch.pk).count() == len(reviews)
    services.batch_undo(actor=org.rep, batch=batch)
    assert not DuplicateCandidate.objects.exists()
    assert Contact.objects.count() == 2


def test_the_business_card_preset_ships_and_is_applied(org, media):
    from kizuna.imports.models import MappingPreset
    from tests.imports.conftest import csv_file

    preset = MappingPreset.objects.get(entity="contact", name__startswith="名刺アプリ")
    assert preset.mapping["姓(カナ)"] == "family_name_reading"
    text = "会社名,部署名,姓,名,姓（カナ）,名（カナ）,メールアドレス\nABC,営業,佐藤,太郎,サトウ,タロウ,t@abc.jp\n"
    batch = services.batch_upload(actor=org.rep, entity="contact", upload=csv_file(text))
    assert batch.mapping == [
        "company",
        "department",
        "family_name",
        "given_name",
        "family_name_reading",
        "given_name_reading",
        "email",
    ]


def test_bad_cells_get_row_messages(org, do_import):
    text = (
        "会社名,姓,名,メール,名刺交換日\n"
        "ABC,佐藤,太郎,taro@abc.jp,令和8年2月30日\n"
        '="ABC",鈴木,,=HYPERLINK("x"),2026/1/2\n'
        "ABC,田中,,t@abc.jp,2026-01-02,余分\n"
        "ABC,山本\n"
    )
    batch = do_import(org.rep, "contact", text, start=False)
    rows = {r.number: r for r in batch.rows.all()}
    assert rows[2].outcome == "error" and "not a date" in rows[2].message
    assert rows[3].outcome == "error" and "formula" in rows[3].message
    assert rows[4].outcome == "error" and "5 columns" in rows[4].message
    assert rows[5].outcome == "create"  # a short (ragged) row is fine


def test_undo_names_a_contact_someone_added_at_an_imported_company(org, do_import):
    from kizuna.imports import writing

    # Several chunks, so that the check reads each chunk's companies on its own.
    writing_chunk = writing.CHUNK
    writing.CHUNK = 1
    try:
        batch = do_import(org.rep, "contact", CARDS)
    finally:
        writing.CHUNK = writing_chunk
    assert batch.chunks.count() >= 2
    company = Company.objects.get(name="山田商事")
    contact_create(actor=org.rep, family_name="鈴木", given_name="一郎", company=company)
    assert writing.conflicts(batch) == ["鈴木 一郎"]
    with pytest.raises(services.UndoConflict) as info:
        services.batch_undo(actor=org.rep, batch=batch)
    assert "鈴木 一郎" in str(info.value)
