"""Field kinds and guessing them from a header (ja/ko/en)."""

from kizuna.core.text import name_key

KINDS = (
    "given_name",
    "family_name",
    "full_name",
    "reading",
    "company",
    "email",
    "phone",
    "postal_code",
    "address",
    "date",
    "identifier",
    "text",
)
ENTITIES = ("contact", "company", "lead")

_HEADERS = {
    "given_name": "given_name givenname first_name firstname forename 名 下の名前 given",
    "family_name": "family_name familyname surname last_name lastname 姓 苗字 名字 성",
    "full_name": """full_name fullname name 氏名 名前 お名前 担当者 担当者名 担当者氏名
        contact_name person 성명 성함 담당자 이름""",
    "reading": """reading kana furigana フリガナ ふりがな 読み よみ よみがな 氏名カナ 氏名かな
        カナ氏名 セイ メイ せい めい フリガナ(姓) フリガナ(名) 姓カナ 名カナ""",
    "company": """company company_name companyname organization organisation organization_name
        account employer 会社名 会社 企業名 法人名 社名 勤務先 取引先 取引先名 所属 회사명 회사
        기업명 상호 소속 직장""",
    "email": """email e_mail mail email_address mailaddress メール メールアドレス 電子メール
        eメール 이메일 메일 이메일주소 전자우편""",
    "phone": """phone telephone tel phone_number mobile mobile_phone cell 電話 電話番号 携帯
        携帯電話 携帯番号 tel番号 代表電話 전화 전화번호 휴대폰 휴대전화 핸드폰 연락처""",
    "postal_code": "postal_code postalcode postcode zip zipcode zip_code 郵便番号 〒 우편번호",
    "address": """address address_1 address_2 address1 address2 street street_address city
        suburb 住所 所在地 住所1 住所2 番地 市区町村 주소 도로명주소 지번주소""",
    "date": """date date_of_birth dob birthday birth_date birthdate 生年月日 誕生日 생년월일
        생일""",
    "identifier": """identifier corporate_number 法人番号 soc_sec_id ssn social_security_number
        national_id customer_number customer_id 顧客番号 顧客コード 会員番号 社員番号 법인등록번호
        사업자등록번호 registration_number""",
    "text": "state prefecture 都道府県 street_number 시도 region",
}
HEADER_KINDS = {
    name_key(word).replace("_", ""): kind
    for kind, words in _HEADERS.items()
    for word in words.split()
}
ID_HEADERS = {"id", "recid", "recordid", "record", "no", "番号", "管理番号", "レコードid", "번호"}


def _header_key(header: str) -> str:
    return name_key(header).replace("_", "")


def guess_kind(header: str, *, entity: str = "contact") -> str | None:
    """The kind of a column from its header, or None when the header says nothing."""
    key = _header_key(header)
    kind = HEADER_KINDS.get(key)
    if kind is None and key.endswith(("id", "番号", "number", "コード", "번호")):
        return None if key in ID_HEADERS else "identifier"
    if entity == "company" and kind == "full_name":
        return "company"
    return kind


def guess_fields(headers: list[str], *, entity: str = "contact") -> list[tuple[str, str]]:
    """(column, kind) for every column whose header says what it holds."""
    fields = [(h, kind) for h in headers if (kind := guess_kind(h, entity=entity))]
    has_family = any(kind == "family_name" for _h, kind in fields)
    # 이름 alone is a whole name; next to 성 it is the given name.
    return [
        (
            h,
            "given_name"
            if has_family and kind == "full_name" and _header_key(h) == "이름"
            else kind,
        )
        for h, kind in fields
    ]


def guess_id_column(headers: list[str]) -> str | None:
    for header in headers:
        if _header_key(header) in ID_HEADERS:
            return header
    return None
