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


# Matching keys (名寄せ) ------------------------------------------------------------

_NAME_PUNCT_RE = re.compile(r"[\s\-‐・･,.'’\"()\[\]/&:;!?~_*#=]+")


def name_key(text: str | None) -> str:
    """A person or place name with width, kana, variant kanji and spacing folded."""
    return _NAME_PUNCT_RE.sub("", normalize(text))


# Hepburn romanisation of hiragana (normalize() has already folded katakana).
_KANA_DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "ぢゃ": "ja", "ぢゅ": "ju", "ぢょ": "jo",
    "びゃ": "bya", "びゅ": "byu", "びょ": "byo", "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
    "しぇ": "she", "じぇ": "je", "ちぇ": "che", "てぃ": "ti", "でぃ": "di", "ふぁ": "fa",
    "ふぃ": "fi", "ふぇ": "fe", "ふぉ": "fo", "うぃ": "wi", "うぇ": "we", "ゔぁ": "ba",
}  # fmt: skip
_ROMAN = (
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he "
    "ho ma mi mu me mo ya yu yo ra ri ru re ro wa i e o n ga gi gu ge go za ji zu ze zo da "
    "ji zu de do ba bi bu be bo pa pi pu pe po bu a i u e o ya yu yo wa"
)
_KANA_MONOGRAPHS = dict(
    zip(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよ"
        "らりるれろわゐゑをんがぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔ"
        "ぁぃぅぇぉゃゅょゎ",
        _ROMAN.split(),
        strict=True,
    )
)
# Long vowels are written in many ways (さとう, サトー, Satoh, Satō): fold them.
_LONG_VOWEL_RE = re.compile(r"(?<=o)(?:[uo]|h(?![aeiouy]))|(?<=u)u|(?<=e)e|(?<=a)a|(?<=i)i|-")


def kana_to_romaji(text: str) -> str:
    """Romanise hiragana/katakana (Hepburn); other characters are kept."""
    text = normalize(text)
    out: list[str] = []
    i = 0
    sokuon = False
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _KANA_DIGRAPHS:
            roman = _KANA_DIGRAPHS[pair]
            i += 2
        elif text[i] == "っ":
            sokuon = True
            i += 1
            continue
        else:
            roman = _KANA_MONOGRAPHS.get(text[i], "-" if text[i] == "ー" else text[i])
            i += 1
        if sokuon and roman[:1].isalpha():
            roman = ("t" if roman.startswith("ch") else roman[0]) + roman
        sokuon = False
        out.append(roman)
    return "".join(out)


def _is_kana_or_latin(text: str) -> bool:
    return all(
        "\u3041" <= c <= "\u309f" or c == "ー" or c == "-" or ("a" <= c <= "z") for c in text
    )


def romaji_key(text: str | None) -> str:
    """How a kana or Latin name sounds, with long vowels folded; "" for kanji/hangul.

    ｻﾄｳ, さとう, サトー, Satoh and SATO all give "sato".
    """
    key = name_key(text)
    if not key or not _is_kana_or_latin(key):
        return ""
    return _LONG_VOWEL_RE.sub("", kana_to_romaji(key))


def is_kana(text: str) -> bool:
    """True for text that is hiragana or katakana only (spaces allowed)."""
    key = name_key(text)
    return bool(key) and all("\u3041" <= c <= "\u309f" or c == "ー" for c in key)


# E-mail ---------------------------------------------------------------------------

# Consumer and mobile-carrier domains: many unrelated people share them, so
# they say nothing about the company a person works for.
_FREE_MAIL = """
    gmail.com googlemail.com yahoo.co.jp ymail.ne.jp yahoo.com yahoo.co.uk yahoo.co.kr
    hotmail.com hotmail.co.jp outlook.com outlook.jp live.jp live.com msn.com
    icloud.com me.com mac.com aol.com proton.me protonmail.com gmx.com gmx.net mail.com
    docomo.ne.jp ezweb.ne.jp au.com softbank.ne.jp i.softbank.jp disney.ne.jp
    willcom.com emnet.ne.jp ymobile.ne.jp uqmobile.jp rakuten.jp
    nifty.com biglobe.ne.jp ocn.ne.jp so-net.ne.jp excite.co.jp infoseek.jp
    naver.com daum.net hanmail.net nate.com kakao.com korea.com empas.com dreamwiz.com
    qq.com 163.com 126.com
"""
FREE_MAIL_DOMAINS = frozenset(_FREE_MAIL.split())

# Local parts that name a role or a team rather than a person (info@, 営業@).
_ROLE_LOCAL = """
    info information contact contacts sales support help helpdesk service services office
    admin administrator hello inquiry inquiries enquiry enquiries toiawase otoiawase
    eigyo eigyou sales-dept hr jinji recruit recruiting saiyo saiyou soumu somu press pr
    koho kouhou marketing customer customers cs webmaster web mail team desk general
    reception uketsuke daihyo daihyou billing accounting keiri noreply no-reply
    営業 お問い合わせ 問い合わせ 総務 人事 広報 代表 受付 経理 採用 문의 영업 고객센터 대표
"""
ROLE_LOCAL_PARTS = frozenset(_ROLE_LOCAL.split())


def normalize_email(raw: str | None) -> str:
    """Lower-case an address and drop a plus tag: Taro+News@ABC.jp → taro@abc.jp."""
    text = unicodedata.normalize("NFKC", raw or "").strip().strip("<>").casefold()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain:
        return ""
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]


def is_free_mail_domain(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS or domain.endswith(
        (".docomo.ne.jp", ".ezweb.ne.jp", ".softbank.ne.jp")
    )


def is_role_address(email: str) -> bool:
    """True for team addresses such as info@, sales@, 営業@ (after normalize_email)."""
    local = email.rpartition("@")[0].rstrip("0123456789").rstrip("-_.")
    return local in ROLE_LOCAL_PARTS or local.split(".", 1)[0] in ROLE_LOCAL_PARTS


# Phone, postal code, address, date ------------------------------------------------


_PHONE_SEPARATORS = str.maketrans("", "", " -()")
# Country code, and the domestic prefixes phonenumbers reads otherwise (010
# dials abroad from Japan; Korea's 08x are not area codes).
_FAST_PHONE = {"JP": ("81", ("010",)), "KR": ("82", ("08",))}


def plain_domestic_e164(raw: str, region: str) -> str:
    """E.164 of a plain domestic number such as 03-1234-5678, else "".

    Such numbers are most of a Japanese or Korean file, and for them E.164
    is the country code and the digits without the leading zero: exactly
    what phonenumbers answers (a test compares them over every prefix), at a
    twentieth of the cost. Anything else is for phonenumbers to read.
    """
    fast = _FAST_PHONE.get(region)
    if fast is None or not raw.isascii():
        return ""
    digits = raw.translate(_PHONE_SEPARATORS)
    if (
        len(digits) in (10, 11)
        and digits.isdigit()
        and digits[0] == "0"
        and digits[1] != "0"
        and not digits.startswith(fast[1])
    ):
        return f"+{fast[0]}{digits[1:]}"
    return ""


def phone_key(raw: str | None, region: str = "JP") -> str:
    """The number in E.164, or "" when it is not a phone number."""
    import phonenumbers

    text = (raw or "").strip()
    if not text:
        return ""
    if fast := plain_domestic_e164(text, region):
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_POSTAL_MARK_RE = re.compile(r"[〒\s\-]|^(zip|postal|postcode)[:：]?", re.I)


def normalize_postal_code(raw: str | None) -> str:
    """〒123-4567, 123−4567 and １２３４５６７ all become 1234567."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = _DASH_RE.sub("-", text).strip()
    return _POSTAL_MARK_RE.sub("", text).upper()


_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_KANJI_DIGITS.update({"九": 9})
_KANJI_NUMBER_RE = re.compile(r"[〇一二三四五六七八九十百千]+(?=丁目|番|号|の|-|条|線|$)")
_ADDRESS_POSTAL_RE = re.compile(r"〒?\s*\d{3}-\d{4}\s*|〒\s*\d{5,7}\s*")
_ADDRESS_UNIT_RE = re.compile(r"(?<=\d)(丁目|番地の?|番の?|号|の|번지|번길|-)(?=\d)")
_ADDRESS_TAIL_RE = re.compile(r"(?<=\d)(丁目|番地|番|号|번지)")


def _kanji_number(match: re.Match[str]) -> str:
    total = current = 0
    for char in match.group(0):
        if char in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[char]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * unit
            current = 0
    return str(total + current)


def normalize_address(raw: str | None) -> str:
    """Fold address spellings: 一丁目2番3号, 1丁目2-3 and 1-2-3 compare equal.

    A postal code written in the address (〒100-0001) is dropped, spaces and
    punctuation too.
    """
    text = _DASH_RE.sub("-", unicodedata.normalize("NFKC", raw or ""))
    text = _ADDRESS_POSTAL_RE.sub(" ", text)
    text = _KANJI_NUMBER_RE.sub(_kanji_number, normalize(text))
    text = _ADDRESS_UNIT_RE.sub("-", text)
    text = _ADDRESS_TAIL_RE.sub("", text)
    return _NAME_PUNCT_RE.sub(lambda m: "-" if "-" in m.group(0) else "", text).strip("-")


_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "大正": 1911, "明治": 1867}
_ERA_ABBR = {"r": "令和", "h": "平成", "s": "昭和", "t": "大正", "m": "明治"}
_DATE_RE = re.compile(
    r"^(?P<era>令和|平成|昭和|大正|明治|[rhstm](?=\d))?\s*(?P<y>\d{1,4}|元)\s*[-/.年]\s*"
    r"(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
)


def normalize_date(raw: str | None) -> str:
    """A date as YYYYMMDD: 2026-01-02, 2026/1/2, 2026年1月2日, 令和8年1月2日, 20260102.

    Returns "" when the text is not a date.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip().casefold()
    if len(text) == 8 and text.isdigit():
        year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    else:
        match = _DATE_RE.match(text)
        if not match:
            return ""
        year = 1 if match["y"] == "元" else int(match["y"])
        month, day = int(match["m"]), int(match["d"])
        if match["era"]:
            year += _ERAS[_ERA_ABBR.get(match["era"], match["era"])]
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1000 <= year <= 9999):
        return ""
    return f"{year:04d}{month:02d}{day:02d}"
