# ruff: noqa: E501  (sample rows read best on one line)
"""The import's fast paths write what the services would write."""

import random

import pytest
from django.db import connection

from kizuna.core import search
from kizuna.core.validators import normalize_phone
from kizuna.customers.models import Company, Contact, ContactEmail, ContactEmployment, Lead
from kizuna.customers.services import company_create, contact_create
from kizuna.dedup import services as dedup
from kizuna.dedup.models import DuplicateCandidate
from kizuna.imports import bulk, services
from kizuna.imports.fields import parse_phone

CARDS = (
    "会社名,部署名,役職,姓,名,フリガナ,メールアドレス,電話番号,携帯電話,郵便番号,住所,名刺交換日\n"
    "株式会社ＡＢＣ,営業部,部長,佐藤,太郎,サトウ タロウ,taro@abc.co.jp,03-1234-5678,090-1111-2222,100-0001,東京都千代田区千代田1-1,令和8年1月2日\n"
    "(株)ABC,開発部,,鈴木,花子,スズキ ハナコ,hanako@abc.co.jp,03-1234-5679,,100-0001,東京都千代田区千代田1-1,2026/1/2\n"
    "山田商事,総務,課長,山田,一郎,,ichiro@yamada.jp,06-1111-2222,,,,\n"
    "ＸＹＺ株式会社,,,髙橋,健,タカハシ ケン,ken@xyz.jp,+81 3 9999 0000,,,,\n"
)


@pytest.mark.parametrize("region", ["JP", "KR"])
def test_the_phone_fast_path_gives_what_phonenumbers_gives(region):
    rng = random.Random(7)
    samples = ["03-1234-5678", "(03)1234-5678", "090 1234 5678", "0120-123-456"]
    samples += ["010-1234-5678", "02-123-4567", "081-234-5678", "0212345678"]
    for prefix in range(1, 100):
        for length in (10, 11):
            rest = "".join(rng.choice("0123456789") for _ in range(length - 3))
            samples.append(f"0{prefix:02d}{rest}")
    for raw in samples:
        try:
            expected = normalize_phone(raw, region)
        except Exception:
            expected = None
        try:
            got = parse_phone(raw, region)
        except Exception:
            got = None
        assert got == expected, raw


def test_imported_records_are_written_as_the_services_write_them(org, do_import):
    batch = do_import(org.rep, "contact", CARDS)
    assert batch.status == "done", batch.error
    contacts = list(Contact.objects.all())
    assert len(contacts) == 4
    for contact in contacts:
        stored = contact.search_index
        contact.refresh_search_index(
            *contact.emails.values_list("email", flat=True),
            *(p.lstrip("+") for p in contact.phones.values_list("number", flat=True)),
        )
        assert stored == contact.search_index
        assert contact.version == 1 and contact.custom_field_data == {}
        assert contact.created_at and contact.updated_at
        assert contact.owner_id == org.rep.pk and contact.team_id == org.rep.team_id
        assert ContactEmployment.objects.get(contact=contact).company_id == contact.company_id
    for company in Company.objects.all():
        stored = company.search_index
        company.refresh_search_index()
        assert stored == company.search_index
        assert company.path == f"/{company.pk}/" and company.kind == "company"
    # The search index table follows (FTS5 on SQLite, the column on PostgreSQL).
    assert [c.family_name for c in search.filter_search(Contact.objects.all(), "たかはし")] == [
        "髙橋"
    ]
    assert [c.name for c in search.filter_search(Company.objects.all(), "xyz")] == [
        "ＸＹＺ株式会社"
    ]
    # Ids were taken from the table: new rows after the import do not collide.
    later = contact_create(actor=org.rep, family_name="後藤")
    assert later.pk > max(c.pk for c in contacts)


def test_updates_reindex_and_undo_restores_the_index(org, do_import):
    abc = company_create(actor=org.rep, name="株式会社ABC")
    taro = contact_create(
        actor=org.rep, family_name="佐藤", given_name="太郎", company=abc, emails=["taro@abc.co.jp"]
    )
    before = Contact.objects.get(pk=taro.pk).search_index
    batch = do_import(org.rep, "contact", CARDS)
    taro.refresh_from_db()
    assert taro.title == "部長" and taro.version == 2
    assert taro in search.filter_search(Contact.objects.all(), "部長")
    services.batch_undo(actor=org.rep, batch=batch)
    taro.refresh_from_db()
    assert taro.search_index == before and taro.title == ""
    assert taro not in search.filter_search(Contact.objects.all(), "部長")
    assert list(Contact.objects.all()) == [taro]
    assert ContactEmail.objects.count() == 1


def test_leads_and_companies_take_the_bulk_path(org, do_import):
    leads = do_import(
        org.rep,
        "lead",
        "氏名,会社名,メール,電話\n田中 一,ACME,t@acme.jp,03-1111-2222\n木村 二,ＡＣＭＥ,k@acme.jp,\n",
        encoding="utf-8",
    )
    assert leads.status == "done", leads.error
    for lead in Lead.objects.all():
        stored = lead.search_index
        lead.refresh_search_index()
        assert stored == lead.search_index and lead.channel == "other"
    tanaka = Lead.objects.get(family_name="田中")
    assert (tanaka.phone, tanaka.email) == ("+81311112222", "t@acme.jp")
    companies = do_import(
        org.rep,
        "company",
        "会社名,法人番号,電話番号,住所\n株式会社テスト,,03-5555-6666,東京都港区1-1\n",
        encoding="utf-8",
    )
    assert companies.status == "done", companies.error
    company = Company.objects.get(name="株式会社テスト")
    assert company.phone == "+81355556666" and company.prefecture == "東京都"
    stored = company.search_index
    company.refresh_search_index()
    assert stored == company.search_index


def test_imported_leads_are_assigned_by_territory_and_start_their_sla(org, do_import):
    from kizuna.automation.services import assignment_rule_create
    from tests.factories import TeamFactory, UserFactory

    team = TeamFactory(name="関西営業")
    people = [UserFactory(username=f"kansai{i}", team=team) for i in range(2)]
    assignment_rule_create(actor=org.admin, name="関西", team=team, prefectures=["大阪府"])
    batch = do_import(
        org.rep,
        "lead",
        "氏名,会社名,都道府県\n大阪 一,ACME,大阪府\n大阪 二,ACME2,大阪府\n東京 三,ACME3,東京都\n",
        encoding="utf-8",
    )
    assert batch.status == "done", batch.error
    osaka = Lead.objects.filter(prefecture="大阪府").order_by("id")
    assert [lead.owner_id for lead in osaka] == [p.pk for p in people]
    assert all(lead.team_id == team.pk for lead in osaka)
    tokyo = Lead.objects.get(prefecture="東京都")
    assert tokyo.owner_id == org.rep.pk
    assert all(lead.first_contact_due_at is not None for lead in Lead.objects.all())


def test_candidates_add_many_adds_new_pairs_once(org):
    a, b, c = (contact_create(actor=org.rep, family_name=n).pk for n in ("甲", "乙", "丙"))
    dedup.candidate_add(entity="contact", a_id=a, b_id=b, score=0.9, evidence=[], source="scan")
    DuplicateCandidate.objects.update(status=DuplicateCandidate.Status.DISMISSED)
    added = dedup.candidates_add_many(
        entity="contact",
        pairs=[(b, a, 0.8, []), (c, a, 0.7, [{"field": "name"}]), (a, c, 0.6, None)],
        source="import",
        import_batch_id=42,
    )
    assert added == 1
    pairs = {(p.a_id, p.b_id): p for p in DuplicateCandidate.objects.all()}
    assert pairs[(a, b)].status == "dismissed" and pairs[(a, b)].source == "scan"
    new = pairs[(min(a, c), max(a, c))]
    assert (new.score, new.evidence, new.import_batch_id, new.band) == (
        0.7,
        [{"field": "name"}],
        42,
        "review",
    )
    with pytest.raises(ValueError):
        dedup.candidates_add_many(entity="deal", pairs=[], source="import")


def test_reserved_ids_never_reuse_a_deleted_id(org):
    last = contact_create(actor=org.rep, family_name="最後")
    Contact.objects.filter(pk=last.pk).delete()
    (first,) = bulk.reserve_ids(Contact, 1)
    assert first > last.pk
    assert bulk.reserve_ids(Contact, 0) == []


def test_preview_and_run_queries_do_not_grow_with_rows(
    org, do_import, django_assert_max_num_queries
):
    head, *rows = CARDS.strip().split("\n")
    few = "\n".join([head, *rows]) + "\n"
    many = [head]
    for i in range(300):
        many.append(
            f"新会社{i % 40},営業部,部長,姓{i},名,セイ メイ,p{i}@ex{i % 7}.co.jp,03-{i:04d}-0000,,,,"
        )
    do_import(org.rep, "contact", few)
    with django_assert_max_num_queries(80 if connection.vendor == "sqlite" else 90):
        batch = do_import(org.rep, "contact", "\n".join(many) + "\n")
    assert batch.counts.get("create") == 300, batch.counts


def test_cached_grams_are_the_search_grams(org):
    from kizuna.core.text import search_grams
    from kizuna.imports.models import ImportBatch
    from kizuna.imports.writing import Writer

    writer = Writer(ImportBatch(entity="contact", created_by=org.rep))
    for email in [
        "Taro.Sato+news@ABC.co.jp",
        "a_b-c@example.com",
        "x@y.jp",
        "@only.domain",
        "noat",
        "名前@例え.jp",
        "ｔａｒｏ@abc.jp",
    ]:
        assert writer.address_grams(email) == search_grams(email), email
        assert writer.address_grams(email) == search_grams(email), email  # cached
    values = ["佐藤太郎", "佐藤", "", "ｻﾄｳ ﾀﾛｳ", "営業部", "佐藤"]
    assert writer.grams(*values) == search_grams(*values)


def _pipeline(org):
    from kizuna.sales import services as sales
    from kizuna.sales.models import Pipeline

    # Deals go to the first active pipeline (a data migration may ship one).
    pipeline = Pipeline.objects.filter(is_active=True).first()
    if pipeline is None:
        pipeline = sales.pipeline_install_template(actor=org.admin, template="six_phase")
    return pipeline, list(pipeline.stages.order_by("position", "id"))


def test_deals_find_company_contact_and_stage_by_natural_keys(org, do_import):
    from kizuna.sales.models import Deal

    _pipeline_obj, stages = _pipeline(org)
    stage = stages[1]
    abc = company_create(actor=org.rep, name="株式会社ABC", corporate_number="", domain="abc.co.jp")
    xyz = company_create(actor=org.rep, name="XYZ商事")
    hidden = company_create(actor=org.outsider, name="秘密商事")
    taro = contact_create(actor=org.rep, family_name="佐藤", company=abc, emails=["taro@abc.co.jp"])
    text = (
        "商談名,会社名,担当者メール,金額,ステージ\n"
        f'案件A,(株)ABC,taro@abc.co.jp,"1,000",{stage.name}\n'
        "案件B,abc.co.jp,,200,\n"
        "案件C,ＸＹＺ商事,,300,\n"
        "案件D,秘密商事,,400,\n"
        "案件E,ABC,nobody@abc.co.jp,500,\n"
        "案件F,ABC,,600,存在しない段階\n"
    )
    batch = do_import(org.rep, "deal", text, encoding="utf-8")
    assert batch.status == "done", batch.error
    rows = {r.number: r for r in batch.rows.all()}
    assert rows[2].outcome == "create" and rows[2].values["company_id"] == abc.pk
    assert rows[2].values["contact_id"] == taro.pk and rows[2].values["stage_id"] == stage.pk
    assert rows[3].values["company_id"] == abc.pk  # by domain
    assert rows[4].values["company_id"] == xyz.pk
    assert rows[5].outcome == "error" and "秘密商事" in rows[5].message
    assert rows[6].outcome == "error" and "nobody@abc.co.jp" in rows[6].message
    assert rows[7].outcome == "error" and "存在しない段階" in rows[7].message
    deal = Deal.objects.get(name="案件A")
    assert deal.company == abc and deal.stage == stage and deal.amount == 1000
    assert not Deal.objects.filter(company=hidden).exists()


def test_deal_preview_queries_do_not_grow_with_rows(org, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kizuna.imports.models import ImportBatch

    stage = _pipeline(org)[1][0].name
    company_create(actor=org.rep, name="株式会社ABC")
    contact_create(actor=org.rep, family_name="佐藤", emails=["taro@abc.co.jp"])

    def preview(count: int) -> int:
        lines = ["商談名,会社名,担当者メール,ステージ"]
        lines += [f"案件{i},ABC,taro@abc.co.jp,{stage}" for i in range(count)]
        upload = SimpleUploadedFile("deals.csv", ("\n".join(lines) + "\n").encode())
        batch = services.batch_upload(actor=org.rep, entity="deal", upload=upload)
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.ANALYSING)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            services.analyse_now(batch.pk)
        return len(queries)

    assert preview(120) == preview(3)


def test_a_company_the_user_cannot_see_is_an_error_in_every_chunk(org, do_import, monkeypatch):
    from kizuna.imports import analysis

    monkeypatch.setattr(analysis, "CHUNK", 2)
    company_create(actor=org.outsider, name="秘密商事")
    mine = company_create(actor=org.rep, name="東京商事")
    text = "会社名,姓,メールアドレス\n" + "".join(
        f"{name},姓{i},p{i}@example.jp\n"
        for i, name in enumerate(["秘密商事", "東京商事", "(株)秘密商事", "東京商事", "新商事"])
    )
    batch = do_import(org.rep, "contact", text, encoding="utf-8", start=False)
    rows = {r.number: r for r in batch.rows.all()}
    assert [rows[n].outcome for n in (2, 4)] == ["error", "error"]
    assert "秘密商事" in rows[4].message
    assert rows[3].values["company_id"] == rows[5].values["company_id"] == mine.pk
    assert rows[6].values["company_new"] is True


def test_company_and_lead_updates_keep_the_index_as_the_services_write_it(org, do_import):
    from kizuna.customers.services import lead_create

    acme = company_create(actor=org.rep, name="株式会社テスト", city="港区")
    lead = lead_create(
        actor=org.rep, family_name="田中", email="t@acme.jp", channel="other", campaign="展示会"
    )
    companies = do_import(
        org.rep,
        "company",
        "会社名,電話番号,フリガナ\n株式会社テスト,03-5555-6666,テスト\n",
        encoding="utf-8",
    )
    leads = do_import(
        org.rep, "lead", "氏名,メール,部署\n田中 一,t@acme.jp,営業部\n", encoding="utf-8"
    )
    assert companies.counts == {"update": 1} and leads.counts == {"update": 1}
    for obj in (acme, lead):
        obj.refresh_from_db()
        stored = obj.search_index
        obj.refresh_search_index()
        assert stored == obj.search_index and obj.version == 2
    assert acme.phone == "+81355556666" and lead.department == "営業部"
    for batch in (leads, companies):
        services.batch_undo(actor=org.rep, batch=batch)
    acme.refresh_from_db()
    lead.refresh_from_db()
    assert (acme.phone, acme.version, lead.department, lead.version) == ("", 1, "", 1)


def _previewed(org, do_import, rows: int):
    lines = ["会社名,姓,メールアドレス,電話番号"]
    lines += [f"会社{i % 3},姓{i},p{i}@example.jp,03-1234-{i:04d}" for i in range(rows)]
    return do_import(org.rep, "contact", "\n".join(lines) + "\n", encoding="utf-8", start=False)


def test_a_failed_run_leaves_nothing_half_imported(org, do_import, monkeypatch):
    from kizuna.imports import writing
    from kizuna.imports.models import ImportBatch, ImportChunk

    batch = _previewed(org, do_import, 7)
    monkeypatch.setattr(writing, "CHUNK", 2)
    calls = []

    def explode(batch, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(writing, "_queue_reviews", explode)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    with pytest.raises(RuntimeError):
        services.run_now(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed" and "disk full" in batch.error
    assert not Contact.objects.exists() and not Company.objects.exists()
    assert not ContactEmail.objects.exists() and not ImportChunk.objects.exists()
    # The search index holds nothing of it either.
    assert not search.filter_search(Contact.objects.all(), "example").exists()


def test_a_cancelled_run_is_rolled_back(org, do_import, monkeypatch):
    from kizuna.imports import writing
    from kizuna.imports.models import ImportBatch

    batch = _previewed(org, do_import, 5)
    monkeypatch.setattr(writing, "CHUNK", 2)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    original = writing._record_rows

    def record_then_cancel(rows):
        original(rows)
        ImportBatch.objects.filter(pk=batch.pk).update(cancel_requested=True)

    monkeypatch.setattr(writing, "_record_rows", record_then_cancel)
    services.run_now(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_the_lookup_load_does_not_list_every_phone_in_one_query(org, media):
    """An IN of every stored number breaks on SQLite and PostgreSQL at scale."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.utils import CaptureQueriesContext

    from kizuna.imports.models import ImportBatch

    for i in range(30):
        contact_create(actor=org.rep, family_name=f"既存{i}", phones=[f"03-5555-{i:04d}"])
    upload = SimpleUploadedFile("x.csv", "姓,電話番号\n新人,03-1111-2222\n".encode())
    batch = services.batch_upload(actor=org.rep, entity="contact", upload=upload)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.ANALYSING)
    with CaptureQueriesContext(connection) as queries:
        services.analyse_now(batch.pk)
    assert max(q["sql"].count("+81355550") for q in queries) < 10
