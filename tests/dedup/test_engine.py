import pytest

from kizuna.dedup.clustering import cluster
from kizuna.dedup.comparators import comparator_for
from kizuna.dedup.engine import Band, Engine, FieldSpec, Rule, Thresholds, find_matches

CONTACT_FIELDS = [
    ("会社名", "company"),
    ("氏名", "full_name"),
    ("フリガナ", "reading"),
    ("メール", "email"),
    ("電話番号", "phone"),
]


def rows(*records):
    header = ["id", "会社名", "氏名", "フリガナ", "メール", "電話番号"]
    return [dict(zip(header, record, strict=True)) for record in records]


def clusters_of(records, **kwargs):
    matches = find_matches(records, entity="contact", fields=CONTACT_FIELDS, **kwargs)
    clusters = cluster(matches, ids=[r["id"] for r in records])
    return matches, clusters


def level(kind, a, b):
    comparator = comparator_for(kind)
    va, vb = comparator.prepare(a, "JP"), comparator.prepare(b, "JP")
    return comparator.levels[comparator.compare(va, vb)]


@pytest.mark.parametrize(
    "kind, a, b, expected",
    [
        ("full_name", "佐藤 太郎", "佐藤　太郎", "exact"),
        ("full_name", "髙橋 一郎", "高橋一郎", "exact"),
        ("full_name", "太郎 佐藤", "佐藤 太郎", "sounds_alike"),
        ("full_name", "ｻﾄｳ ﾀﾛｳ", "Satoh Taro", "sounds_alike"),
        ("full_name", "佐藤 太郎", "鈴木 花子", "different"),
        ("full_name", "佐藤 太郎", "ｻﾄｳ ﾀﾛｳ", "missing"),  # no reading: not comparable
        ("reading", "サトウ タロウ", "さとう たろう", "exact"),
        ("company", "株式会社ＡＢＣ", "ABC㈱", "exact"),
        ("company", "㈜한빛", "주식회사 한빛", "exact"),
        ("company", "ABC", "XYZ", "different"),
        ("email", "Taro.Sato+expo@ABC.co.jp", "taro.sato@abc.co.jp", "exact"),
        ("email", "info@abc.co.jp", "INFO@abc.co.jp", "shared"),
        ("email", "taro.sato@abc.co.jp", "hanako@abc.co.jp", "same_domain"),
        ("email", "taro@gmail.com", "hanako@gmail.com", "different"),
        ("email", "taro.sato@yahoo.co.jp", "taro.sato@abc.co.jp", "same_local"),
        ("phone", "03-1234-5678", "+81 3 1234 5678", "exact"),
        ("phone", "03-1234-5678", "03-1234-5679", "different"),
        ("postal_code", "〒100-0005", "1000005", "exact"),
        ("address", "丸の内1丁目2番3号", "丸の内1-2-3", "exact"),
        ("date", "2026/1/2", "令和8年1月2日", "exact"),
        ("date", "2026-01-02", "2026-02-01", "close"),
        ("identifier", "7000012050002", "7000012050002", "exact"),
        ("identifier", "7000012050002", "7000012050020", "close"),
        ("identifier", "7000012050002", "1234567890123", "different"),
    ],
)
def test_comparator_levels(kind, a, b, expected):
    assert level(kind, a, b) == expected


def test_spellings_of_one_person_merge_with_an_explanation():
    matches, clusters = clusters_of(
        rows(
            ("1", "(株)ABC", "佐藤 太郎", "サトウ タロウ", "taro.sato@abc.co.jp", "090-1111-2222"),
            ("2", "ABC㈱", "佐藤　太郎", "", "Taro.Sato+expo@ABC.co.jp", "+81 90 1111 2222"),
            ("3", "株式会社ＡＢＣ", "ｻﾄｳ ﾀﾛｳ", "", "", "09011112222"),
        )
    )
    assert clusters["1"] == clusters["2"] == clusters["3"]
    best = matches[0]
    assert best.band == Band.MERGE
    assert 0.99 <= best.score <= 1
    outcomes = {e.column: e.outcome for e in best.evidence}
    assert outcomes["氏名"] == "agreed" and outcomes["メール"] == "agreed"
    assert "メール: agreed" in best.explanation


def test_colleagues_sharing_info_address_and_main_phone_do_not_merge():
    matches, clusters = clusters_of(
        rows(
            ("1", "(株)ABC", "鈴木 花子", "", "info@abc.co.jp", "03-1234-5678"),
            ("2", "ABC㈱", "田中 一郎", "", "info@abc.co.jp", "03-1234-5678"),
            ("3", "ABC株式会社", "佐藤 次郎", "", "営業@abc.co.jp", "+81 3 1234 5678"),
        )
    )
    assert len(set(clusters.values())) == 3
    assert all(m.band != Band.MERGE for m in matches)


def test_colleagues_with_the_same_family_name_do_not_merge():
    engine = Engine(
        [("会社名", "company"), ("姓", "family_name"), ("名", "given_name"), ("メール", "email")],
        entity="contact",
    )
    result = engine.run(
        [
            {"id": "1", "会社名": "ABC", "姓": "佐藤", "名": "太郎", "メール": "info@abc.co.jp"},
            {"id": "2", "会社名": "ABC", "姓": "佐藤", "名": "花子", "メール": "info@abc.co.jp"},
        ]
    )
    assert all(m.band != Band.MERGE for m in result.matches)


def test_same_name_at_another_company_does_not_merge():
    matches, clusters = clusters_of(
        rows(
            ("1", "(株)ABC", "佐藤 太郎", "サトウ タロウ", "", ""),
            ("2", "XYZ株式会社", "佐藤 太郎", "サトウ タロウ", "", ""),
        )
    )
    assert clusters["1"] != clusters["2"]
    (match,) = matches
    assert match.band == Band.REVIEW
    assert Rule.DIFFERENT_COMPANY in match.rules


def test_same_name_and_company_without_contradiction_merges():
    _matches, clusters = clusters_of(
        rows(
            ("1", "(株)ABC", "佐藤 太郎", "サトウ タロウ", "", ""),
            ("2", "ABC㈱", "佐藤太郎", "", "", ""),
            ("3", "XYZ", "鈴木 一郎", "", "", ""),
        )
    )
    assert clusters["1"] == clusters["2"] != clusters["3"]


def test_a_different_identifier_keeps_companies_apart():
    engine = Engine([("社名", "company"), ("法人番号", "identifier")], entity="company")
    result = engine.run(
        [
            {"id": "1", "社名": "株式会社ABC", "法人番号": "7000012050002"},
            {"id": "2", "社名": "ABC㈱", "法人番号": "1234567890123"},
            {"id": "3", "社名": "(株)ＡＢＣ", "法人番号": "7000012050002"},
        ]
    )
    clusters = cluster(result.matches, ids=result.ids)
    assert clusters["1"] == clusters["3"] != clusters["2"]


def test_clustering_does_not_chain_through_a_contradiction():
    # 1–2 and 2–3 look alike, but 1 and 3 work at different companies.
    matches, clusters = clusters_of(
        rows(
            ("1", "ABC", "佐藤 太郎", "サトウ タロウ", "taro@gmail.com", ""),
            ("2", "", "佐藤 太郎", "サトウ タロウ", "taro@gmail.com", "090-1111-2222"),
            ("3", "XYZ", "佐藤 太郎", "サトウ タロウ", "", "090-1111-2222"),
        )
    )
    assert any(Rule.DIFFERENT_COMPANY in m.rules for m in matches)
    assert clusters["1"] != clusters["3"]


def test_thresholds_choose_the_band():
    thresholds = Thresholds(merge=0.99, review=0.5)
    assert thresholds.band(0.995) == Band.MERGE
    assert thresholds.band(0.7) == Band.REVIEW
    assert thresholds.band(0.1) == Band.IGNORE


def test_bad_specs_are_refused():
    with pytest.raises(ValueError):
        FieldSpec("x", "shoe_size")
    with pytest.raises(ValueError):
        Engine([("x", "text")], entity="deal")
    with pytest.raises(ValueError):
        Engine([], entity="contact")
