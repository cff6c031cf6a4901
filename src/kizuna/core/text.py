"""Japanese and Korean text normalisation, shared by search and matching.

Everything that compares or searches text goes through these functions, so
that 株式会社ＡＢＣ, (株)ABC and ABC㈱ or ｻﾄｳ and さとう compare equal.
"""

import re
import unicodedata

# Old and variant kanji forms that appear in company and family names.
VARIANT_KANJI = str.maketrans(
    {
        "髙": "高",
        "﨑": "崎",
        "嵜": "崎",
        "齋": "斎",
        "齊": "斎",
        "齌": "斎",
        "邊": "辺",
        "邉": "辺",
        "澤": "沢",
        "濱": "浜",
        "濵": "浜",
        "櫻": "桜",
        "國": "国",
        "壽": "寿",
        "廣": "広",
        "藏": "蔵",
        "實": "実",
        "眞": "真",
        "德": "徳",
        "惠": "恵",
        "榮": "栄",
        "龍": "竜",
        "圓": "円",
        "會": "会",
        "學": "学",
        "關": "関",
        "團": "団",
        "驛": "駅",
        "鐵": "鉄",
        "冨": "富",
        "槇": "槙",
        "舘": "館",
        "嶋": "島",
        "嶌": "島",
        "傳": "伝",
        "淺": "浅",
        "檜": "桧",
        "萬": "万",
        "與": "与",
        "條": "条",
        "瀨": "瀬",
        "濟": "済",
        "黑": "黒",
        "靜": "静",
        "縣": "県",
    }
)

# Hyphens and dashes; the long-vowel mark ー counts as one unless it follows kana.
_DASH_RE = re.compile("[\u2010-\u2015\u2212\uff0d\u2043\ufe63\u02d7\u2500\u2501]")
_STRAY_LONG_VOWEL_RE = re.compile("(?<![\u3041-\u30ff])\u30fc")

# Legal forms, matched after NFKC (so ㈱ has become (株) and ㈜ (주)).
_LEGAL_FORMS = [
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "特定非営利活動法人",
    "npo法人",
    "医療法人",
    "学校法人",
    "社会福祉法人",
    "(株)",
    "(有)",
    "(合)",
    "(同)",
    "(社)",
    "(財)",
    "(医)",
    "(学)",
    "주식회사",
    "유한회사",
    "유한책임회사",
    "합자회사",
    "합명회사",
    "(주)",
    "(유)",
    "(사)",
    "(재)",
]
_LEGAL_SUFFIXES_LATIN = re.compile(
    r"\b(co\.?,?\s*ltd\.?|company\s+limited|corporation|corp\.?|inc\.?|incorporated"
    r"|ltd\.?|limited|llc|l\.l\.c\.|k\.?k\.?|g\.?k\.?|co\.?)(?=\s|$|,)",
)
_SPACE_RE = re.compile(r"\s+")
_WORD_SPLIT_RE = re.compile(r"[\W_]+")
_PUNCT_RE = re.compile(
    r"[\s\-‐・･,，.．、。'’\"“”()（）\[\]「」『』/／&＆:：;；!！?？~〜_＿*＊#＃]+"
)


_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
# One table for both folds: translate() is the fast path on long texts.
_FOLD: dict[int, int | str | None] = {**VARIANT_KANJI, **_KATAKANA_TO_HIRAGANA}


def katakana_to_hiragana(text: str) -> str:
    return text.translate(_KATAKANA_TO_HIRAGANA)


def normalize(text: str | None) -> str:
    """Fold width, case, kana and variant kanji; unify dashes and spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _STRAY_LONG_VOWEL_RE.sub("-", _DASH_RE.sub("-", text))
    text = text.casefold().translate(_FOLD)
    return _SPACE_RE.sub(" ", text).strip()


def strip_legal_form(text: str) -> str:
    """Remove legal forms (株式会社, (주), Co., Ltd. …) from a normalised name."""
    for form in _LEGAL_FORMS:
        text = text.replace(form, " ")
    text = _LEGAL_SUFFIXES_LATIN.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip(" ,")


def company_key(name: str | None) -> str:
    """A key under which spellings of one company name compare equal."""
    return _PUNCT_RE.sub("", strip_legal_form(normalize(name)))


def search_words(text: str | None) -> list[str]:
    """Split normalised text into words of letters and digits only."""
    return [w for w in _WORD_SPLIT_RE.split(normalize(text)) if w]


def search_grams(*values: str | None) -> str:
    """The index text for substring search: bigrams of each word.

    Each word of two or more characters becomes its bigrams followed by its
    last character, a single character stays as it is. A query is matched as
    a phrase of its own bigrams (see ``core.search``), which finds any
    substring of two characters or more; a one-character query matches the
    prefix of a gram. This works the same in SQLite FTS5 and PostgreSQL's
    full-text search, neither of which splits Japanese or Korean into words.
    """
    grams: list[str] = []
    for value in values:
        for word in search_words(value):
            grams.extend(word_grams(word))
            if len(word) > 1:
                grams.append(word[-1])
    return " ".join(grams)


def word_grams(word: str) -> list[str]:
    if len(word) == 1:
        return [word]
    return [word[i : i + 2] for i in range(len(word) - 1)]
