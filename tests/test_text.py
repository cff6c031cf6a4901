import pytest
from django.core.exceptions import ValidationError

from kizuna.core.text import company_key, normalize, search_grams
from kizuna.core.validators import normalize_phone, validate_corporate_number


@pytest.mark.parametrize(
    "a, b",
    [
        ("株式会社ＡＢＣ", "(株)ABC"),
        ("ABC㈱", "株式会社ABC"),
        ("髙橋建設有限会社", "(有)高橋建設"),
        ("주식회사 한빛", "㈜한빛"),
        ("Acme Co., Ltd.", "ACME"),
        ("山﨑商事 株式会社", "山崎商事"),
    ],
)
def test_company_key_folds_spellings_of_one_company(a, b):
    assert company_key(a) == company_key(b)


def test_normalize_folds_width_kana_and_dashes():
    assert normalize("ｻﾄｳ ﾀﾛｳ") == normalize("サトウ　タロウ") == "さとう たろう"
    assert normalize("サーバー") == "さーばー"
    assert normalize("03−1234ー5678") == "03-1234-5678"
    assert normalize("齋藤") == normalize("斎藤")


def test_search_grams_are_bigrams_of_words():
    assert search_grams("トヨタ 商事") == "とよ よた た 商事 事"
    assert search_grams("a") == "a"


def test_corporate_number_check_digit():
    validate_corporate_number("7000012050002")  # 国税庁
    with pytest.raises(ValidationError):
        validate_corporate_number("1000012050002")
    with pytest.raises(ValidationError):
        validate_corporate_number("７０００")


def test_phone_to_e164_in_japan_and_korea():
    assert normalize_phone("03-1234-5678", "JP") == "+81312345678"
    assert normalize_phone("０９０－１２３４－５６７８", "JP") == "+819012345678"
    assert normalize_phone("010-1234-5678", "KR") == "+821012345678"
    with pytest.raises(ValidationError):
        normalize_phone("電話して", "JP")
