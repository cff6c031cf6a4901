# ruff: noqa: E501  (header synonyms and sample rows read best on one line)
"""What can be imported per object type, and how headers map onto it.

A column maps onto one import field. Relations are resolved by natural keys
only (法人番号, domain, the folded company name, e-mail, username), never by
internal ids.
"""

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.core.text import normalize_date, plain_domestic_e164
from kizuna.core.validators import normalize_phone

ENTITIES = ["company", "contact", "lead", "deal", "activity"]


@dataclass(frozen=True)
class ImportField:
    key: str
    label: object
    kind: str = "text"  # text, email, phone, date, amount, choice, user, int
    synonyms: tuple[str, ...] = ()
    # Several columns may feed a list field (e-mail 1, e-mail 2; phone, mobile).
    multiple: bool = False
    max_length: int = 200
    choices: tuple = field(default=())


def _f(key, label, kind="text", synonyms="", multiple=False, max_length=200, choices=()):
    return ImportField(
        key, label, kind, tuple(synonyms.split()), multiple, max_length, tuple(choices)
    )


# Synonyms are compared after header_key(): NFKC, case folded, no spaces or
# punctuation, so "E-mail", "ｅメール" and "Eメール" need one entry each at most.
_NAME = [
    _f(
        "family_name",
        gettext_lazy("Family name"),
        synonyms="姓 苗字 名字 성 familyname lastname surname",
        max_length=100,
    ),
    _f(
        "given_name",
        gettext_lazy("Given name"),
        synonyms="名 名前 이름 givenname firstname",
        max_length=100,
    ),
    _f(
        "full_name",
        gettext_lazy("Full name (split at the space)"),
        synonyms="氏名 お名前 名前氏名 성명 이름성명 fullname name contactname 担当者名 담당자명 담당자",
        max_length=200,
    ),
    _f(
        "family_name_reading",
        gettext_lazy("Family name reading"),
        synonyms="姓カナ 姓フリガナ 姓ふりがな セイ せい lastnamekana familynamereading",
        max_length=100,
    ),
    _f(
        "given_name_reading",
        gettext_lazy("Given name reading"),
        synonyms="名カナ 名フリガナ 名ふりがな メイ めい firstnamekana givennamereading",
        max_length=100,
    ),
    _f(
        "reading",
        gettext_lazy("Reading (split at the space)"),
        synonyms="フリガナ ふりがな カナ 氏名カナ 氏名フリガナ よみ 読み 읽는법 reading kana",
        max_length=200,
    ),
]
_WORK = [
    _f(
        "title",
        gettext_lazy("Title"),
        synonyms="役職 役職名 직책 직위 title jobtitle position",
        max_length=100,
    ),
    _f(
        "department",
        gettext_lazy("Department"),
        synonyms="部署 部署名 所属 部門 부서 부서명 department dept division",
        max_length=100,
    ),
]
_EMAIL = _f(
    "email",
    gettext_lazy("E-mail"),
    "email",
    "メール メールアドレス eメール 電子メール mail email emailaddress 이메일 이메일주소 전자우편",
    multiple=True,
)
_PHONE = _f(
    "phone",
    gettext_lazy("Phone"),
    "phone",
    "電話 電話番号 tel 電話番号会社 代表電話 会社電話 전화 전화번호 연락처 phone phonenumber telephone 携帯 携帯電話 携帯番号 mobile 휴대폰 휴대전화 cell",
    multiple=True,
)
_POSTAL = _f(
    "postal_code",
    gettext_lazy("Postal code"),
    synonyms="郵便番号 〒 우편번호 postalcode zip zipcode postcode",
    max_length=10,
)
_ADDRESS = _f(
    "address",
    gettext_lazy("Address"),
    synonyms="住所 所在地 会社住所 住所1 주소 소재지 address street",
    max_length=400,
)
_COMPANY_REF = _f(
    "company",
    gettext_lazy("Company"),
    synonyms="会社名 会社 企業名 社名 取引先 取引先名 組織名 회사명 회사 고객사 기업명 company companyname organization account",
    max_length=200,
)
_CORP_NO = _f(
    "corporate_number",
    gettext_lazy("Corporate number"),
    synonyms="法人番号 법인번호 corporatenumber",
    max_length=13,
)
_OWNER = _f(
    "owner",
    gettext_lazy("Owner (username or e-mail)"),
    "user",
    "所有者 担当営業 営業担当 소유자 담당영업 owner",
)
_NOTES = _f(
    "notes",
    gettext_lazy("Notes"),
    synonyms="備考 メモ 비고 메모 notes note memo remarks",
    max_length=10000,
)
_PREFECTURE = _f(
    "prefecture",
    gettext_lazy("Prefecture / province"),
    synonyms="都道府県 시도 prefecture province state",
    max_length=20,
)

FIELDS: dict[str, list[ImportField]] = {
    "company": [
        _f("name", gettext_lazy("Name"), synonyms="会社名 企業名 社名 取引先名 組織名 회사명 기업명 고객사 상호 companyname company name", max_length=200),
        _f("name_reading", gettext_lazy("Reading"), synonyms="会社名カナ 会社名フリガナ フリガナ カナ 읽는법 companynamekana reading", max_length=200),
        _CORP_NO,
        _f("industry", gettext_lazy("Industry"), "choice", "業種 업종 industry"),
        _POSTAL,
        _ADDRESS,
        _PREFECTURE,
        _f("city", gettext_lazy("City"), synonyms="市区町村 시군구 city", max_length=100),
        _f("building", gettext_lazy("Building"), synonyms="建物名 ビル名 住所2 건물명 building", max_length=200),
        _f("website", gettext_lazy("Website"), synonyms="url ホームページ ウェブサイト website homepage 웹사이트 홈페이지"),
        _f("domain", gettext_lazy("Domain"), synonyms="ドメイン 도메인 domain", max_length=100),
        _f("phone", gettext_lazy("Main phone"), "phone", "電話番号 代表電話 電話 tel 전화번호 대표전화 전화 phone"),
        _OWNER,
    ],
    "contact": [
        *_NAME,
        _COMPANY_REF,
        _CORP_NO,
        *_WORK,
        _EMAIL,
        _PHONE,
        _POSTAL,
        _ADDRESS,
        _f("met_on", gettext_lazy("Met on (business card exchanged)"), "date", "名刺交換日 交換日 명함교환일 meton"),
        _NOTES,
        _OWNER,
    ],
    "lead": [
        *_NAME,
        _f("company_name", gettext_lazy("Company name"), synonyms="会社名 会社 企業名 社名 회사명 회사 기업명 company companyname organization", max_length=200),
        _CORP_NO,
        *_WORK,
        _f("email", gettext_lazy("E-mail"), "email", _EMAIL.synonyms and " ".join(_EMAIL.synonyms)),
        _f("phone", gettext_lazy("Phone"), "phone", " ".join(_PHONE.synonyms)),
        _PREFECTURE,
        _f("channel", gettext_lazy("Channel"), "choice", "流入経路 チャネル 経路 유입경로 채널 channel source"),
        _f("campaign", gettext_lazy("Campaign"), synonyms="キャンペーン 캠페인 campaign", max_length=100),
        _f("interest", gettext_lazy("Interest"), synonyms="関心事項 興味 관심사항 interest", max_length=10000),
        _OWNER,
    ],
    "deal": [
        _f("name", gettext_lazy("Deal name"), synonyms="商談名 案件名 商談 案件 딜명 영업기회 거래명 dealname deal opportunity", max_length=200),
        _COMPANY_REF,
        _CORP_NO,
        _f("contact_email", gettext_lazy("Contact's e-mail"), "email", "担当者メール 담당자이메일 contactemail"),
        _f("amount", gettext_lazy("Amount"), "amount", "金額 受注金額 見込金額 금액 amount value"),
        _f("currency", gettext_lazy("Currency"), synonyms="通貨 통화 currency", max_length=3),
        _f("expected_close_date", gettext_lazy("Expected close date"), "date", "受注予定日 完了予定日 クローズ予定日 예상마감일 closedate expectedclosedate"),
        _f("stage", gettext_lazy("Stage"), synonyms="ステージ フェーズ 段階 단계 stage"),
        _OWNER,
    ],
    "activity": [
        _f("kind", gettext_lazy("Type"), "choice", "種別 種類 区分 タイプ 유형 종류 type kind"),
        _f("subject", gettext_lazy("Subject"), synonyms="件名 タイトル 用件 제목 subject title", max_length=200),
        _f("body", gettext_lazy("Details"), synonyms="内容 詳細 本文 メモ 내용 상세 본문 details body description", max_length=100000),
        _f("occurred_at", gettext_lazy("When"), "date", "日付 日時 実施日 活動日 일자 일시 date when"),
        _COMPANY_REF,
        _CORP_NO,
        _f("contact_email", gettext_lazy("Contact's e-mail"), "email", "担当者メール メール メールアドレス 담당자이메일 이메일 email"),
        _OWNER,
    ],
}  # fmt: skip

_HEADER_PUNCT_RE = re.compile(r"[\s\-‐・･_.,:：()（）\[\]「」【】/／*＊#＃]+")


def header_key(text: str) -> str:
    return _HEADER_PUNCT_RE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def field_map(entity: str) -> dict[str, ImportField]:
    return {f.key: f for f in FIELDS[entity]}


def propose(entity: str, headers: list[str]) -> list[str]:
    """The proposed field key per column ("" = not imported).

    An exact synonym wins over a contained one; a non-list field is used by
    one column only, the first that names it.
    """
    fields = FIELDS[entity]
    keys = [header_key(h) for h in headers]
    proposal = [""] * len(headers)
    taken: set[str] = set()
    for exact in (True, False):
        for i, key in enumerate(keys):
            if proposal[i] or not key:
                continue
            for f in fields:
                if f.key in taken and not f.multiple:
                    continue
                labels = {header_key(str(f.label)), header_key(f.key), *map(header_key, f.synonyms)}
                hit = key in labels if exact else any(len(s) > 1 and s in key for s in labels)
                if hit:
                    proposal[i] = f.key
                    taken.add(f.key)
                    break
    # 이름 / 名前 alone is the whole name; next to 성 / 姓 it is the given name.
    if "given_name" in proposal and "family_name" not in proposal and "full_name" not in proposal:
        proposal[proposal.index("given_name")] = "full_name"
    return proposal


# Values -------------------------------------------------------------------


def parse_date(raw: str) -> datetime.date:
    text = normalize_date(raw)
    if not text:
        raise ValidationError(
            _("“%(value)s” is not a date. Write it as 2026-01-02, 2026/1/2 or 令和8年1月2日.")
            % {"value": raw}
        )
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ValidationError(_("“%(value)s” is not a date.") % {"value": raw}) from exc


def parse_amount(raw: str, currency: str = "JPY") -> Decimal:
    from kizuna.sales.quotes.pricing import parse_amount as parse

    return parse(raw, currency=currency)


_DJANGO_EMAIL = EmailValidator()


@functools.lru_cache(maxsize=20_000)
def _domain_ok(domain_part: str) -> bool:
    return _DJANGO_EMAIL.validate_domain_part(domain_part)


class _EmailValidator(EmailValidator):
    """Django's e-mail validator, remembering which domains it has checked.

    The domain check is most of its cost, and a file holds few domains.
    """

    def validate_domain_part(self, domain_part: str) -> bool:
        return _domain_ok(domain_part)


_validate_email = _EmailValidator()


def parse_email(raw: str) -> str:
    email = unicodedata.normalize("NFKC", raw).strip()
    try:
        _validate_email(email)
    except ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not an e-mail address.") % {"value": raw}) from exc
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_phone(raw: str, region: str) -> str:
    """The number in E.164; a plain domestic number skips phonenumbers' parser."""
    return plain_domestic_e164(raw, region) or normalize_phone(
        unicodedata.normalize("NFKC", raw).strip(), region
    )


def choice_lookup(choices) -> dict[str, str]:
    """Every way to write a choice (its value, its label in ja/ko/en) -> value."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[header_key(value)] = value
        for language in ("ja", "ko", "en"):
            with translation.override(language):
                lookup[header_key(str(label))] = value
    return lookup


def split_name(text: str) -> tuple[str, str]:
    """佐藤 太郎 → (佐藤, 太郎); a name without a space is all family name."""
    parts = unicodedata.normalize("NFKC", text).strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""
