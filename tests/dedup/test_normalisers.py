import pytest

from kizuna.core.text import (
    company_key,
    is_free_mail_domain,
    is_role_address,
    kana_to_romaji,
    name_key,
    normalize_address,
    normalize_date,
    normalize_email,
    normalize_postal_code,
    phone_key,
    romaji_key,
)


@pytest.mark.parametrize(
    "a, b",
    [
        ("株式会社ＡＢＣ", "ABC㈱"),
        ("(株)ABC", "㈱ＡＢＣ"),
        ("ABC Co., Ltd.", "株式会社ABC"),
        ("㈜한빛", "주식회사 한빛"),
        ("(주)한빛", "한빛 주식회사"),
        ("髙橋建設株式会社", "(株)高橋建設"),
        ("山﨑製作所", "山崎製作所"),
    ],
)
def test_company_spellings_share_a_key(a, b):
    assert company_key(a) == company_key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("佐藤　太郎", "佐藤太郎"),
        ("齋藤 花子", "斎藤花子"),
        ("髙橋", "高橋"),
        ("ｻﾄｳ ﾀﾛｳ", "さとうたろう"),
        ("渡邊", "渡辺"),
    ],
)
def test_name_key_folds_width_space_kana_and_old_kanji(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ｻﾄｳ ﾀﾛｳ", "satotaro"),
        ("さとう たろう", "satotaro"),
        ("Satoh Taro", "satotaro"),
        ("SATO TARO", "satotaro"),
        ("サトー", "sato"),
        ("キョウコ", "kyoko"),
        ("はっとり", "hattori"),
        ("佐藤", ""),
        ("김민수", ""),
    ],
)
def test_romaji_key_folds_long_vowels(value, expected):
    assert romaji_key(value) == expected


def test_kana_to_romaji_is_hepburn():
    assert kana_to_romaji("シンイチ") == "shinichi"
    assert kana_to_romaji("まっちゃ") == "matcha"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Taro.Yamada+news@ABC.co.jp", "taro.yamada@abc.co.jp"),
        ("  <TARO@abc.jp> ", "taro@abc.jp"),
        ("t.a.r.o+x@Gmail.com", "taro@gmail.com"),
        ("ｉｎｆｏ＠ａｂｃ．ｊｐ", "info@abc.jp"),
        ("not an address", ""),
        ("", ""),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "email, role",
    [
        ("info@abc.co.jp", True),
        ("sales@abc.co.jp", True),
        ("support2@abc.co.jp", True),
        ("営業@abc.co.jp", True),
        ("contact@abc.co.jp", True),
        ("taro.sato@abc.co.jp", False),
        ("information.desk@abc.co.jp", True),
    ],
)
def test_role_addresses(email, role):
    assert is_role_address(email) is role


@pytest.mark.parametrize(
    "domain, free",
    [
        ("gmail.com", True),
        ("yahoo.co.jp", True),
        ("naver.com", True),
        ("daum.net", True),
        ("hanmail.net", True),
        ("docomo.ne.jp", True),
        ("ezweb.ne.jp", True),
        ("i.softbank.jp", True),
        ("icloud.com", True),
        ("abc.co.jp", False),
    ],
)
def test_free_mail_domains(domain, free):
    assert is_free_mail_domain(domain) is free


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("03-1234-5678", "JP", "+81312345678"),
        ("+81 3 1234 5678", "JP", "+81312345678"),
        ("0312345678", "JP", "+81312345678"),
        ("(03)1234-5678", "JP", "+81312345678"),
        ("０３－１２３４－５６７８", "JP", "+81312345678"),
        ("010-1234-5678", "KR", "+821012345678"),
        ("+82 10-1234-5678", "JP", "+821012345678"),
        ("電話して", "JP", ""),
        ("", "JP", ""),
    ],
)
def test_phone_key_is_e164(raw, region, expected):
    assert phone_key(raw, region) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("〒100-0005", "1000005"), ("１００－０００５", "1000005"), ("06236", "06236"), ("", "")],
)
def test_postal_codes(raw, expected):
    assert normalize_postal_code(raw) == expected


@pytest.mark.parametrize(
    "a, b",
    [
        ("東京都千代田区丸の内1丁目2番3号", "東京都千代田区丸の内1-2-3"),
        ("東京都千代田区丸の内一丁目2-3", "東京都千代田区丸の内１－２－３"),
        ("〒100-0005 東京都千代田区丸の内1丁目2番地3", "東京都千代田区丸の内1-2-3"),
        ("大阪市北区梅田2丁目19番19号", "大阪市北区梅田二丁目19-19"),
    ],
)
def test_address_forms_compare_equal(a, b):
    assert normalize_address(a) == normalize_address(b)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2026-01-02", "20260102"),
        ("2026/1/2", "20260102"),
        ("2026年1月2日", "20260102"),
        ("令和8年1月2日", "20260102"),
        ("平成元年5月1日", "19890501"),
        ("19560409", "19560409"),
        ("2026-13-01", ""),
        ("someday", ""),
    ],
)
def test_dates(raw, expected):
    assert normalize_date(raw) == expected
