"""A Japanese/Korean contact list with known duplicates, for tests and benchmarks.

``generate()`` makes people at companies and writes each person one to four
times the way real CRM imports differ: ㈱/株式会社/(株)/ABC㈱ and ㈜/(주)/주식회사,
full and half width, ｻﾄｳ ﾀﾛｳ next to 佐藤 太郎 with its reading, old kanji
(髙橋/高橋, 齋藤/斎藤, 﨑/崎), phone formats, e-mail case and plus tags,
1丁目2番3号 next to 1-2-3. It adds hard negatives: the same name at another
company, and colleagues who give the team's info@ address and the main phone
number. The output is the same for the same seed.
"""

import random
import unicodedata
from dataclasses import dataclass

from kizuna.core.text import kana_to_romaji

HEADER = ["No", "会社名", "氏名", "フリガナ", "メール", "電話番号", "郵便番号", "住所"]

# (family, reading, old-kanji variant or "")
JA_FAMILY = [
    ("佐藤", "サトウ", ""),
    ("鈴木", "スズキ", ""),
    ("高橋", "タカハシ", "髙橋"),
    ("田中", "タナカ", ""),
    ("伊藤", "イトウ", ""),
    ("渡辺", "ワタナベ", "渡邊"),
    ("山本", "ヤマモト", ""),
    ("中村", "ナカムラ", ""),
    ("小林", "コバヤシ", ""),
    ("斎藤", "サイトウ", "齋藤"),
    ("山崎", "ヤマザキ", "山﨑"),
    ("吉田", "ヨシダ", ""),
    ("松本", "マツモト", ""),
    ("井上", "イノウエ", ""),
    ("木村", "キムラ", ""),
    ("長谷川", "ハセガワ", ""),
    ("石川", "イシカワ", ""),
    ("浜田", "ハマダ", "濱田"),
    ("沢村", "サワムラ", "澤村"),
    ("島田", "シマダ", "嶋田"),
]
JA_GIVEN = [
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("健一", "ケンイチ"),
    ("直子", "ナオコ"),
    ("翔太", "ショウタ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽子", "ヨウコ"),
    ("誠", "マコト"),
    ("由美", "ユミ"),
    ("拓也", "タクヤ"),
    ("恵", "メグミ"),
    ("一郎", "イチロウ"),
    ("さくら", "サクラ"),
    ("亮", "リョウ"),
    ("京子", "キョウコ"),
]
KO_FAMILY = [("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung")]
KO_GIVEN = [
    ("민수", "minsu"),
    ("지영", "jiyoung"),
    ("서연", "seoyeon"),
    ("현우", "hyunwoo"),
    ("지훈", "jihoon"),
    ("수진", "sujin"),
    ("영호", "youngho"),
    ("은지", "eunji"),
]
JA_COMPANIES = [
    ("ABC", "abc"),
    ("山田商事", "yamada-shoji"),
    ("髙橋建設", "takahashi-kensetsu"),
    ("サクラ電機", "sakura-denki"),
    ("東京システム", "tokyo-system"),
    ("齋藤工業", "saito-kogyo"),
    ("山﨑製作所", "yamazaki-ss"),
    ("ミライ物産", "mirai-bussan"),
    ("北斗ソフト", "hokuto-soft"),
    ("KIZUNA", "kizuna-crm"),
    ("大和精機", "yamato-seiki"),
    ("青葉フーズ", "aoba-foods"),
    ("日本テック", "nihon-tech"),
    ("みどり薬品", "midori-yakuhin"),
]
KO_COMPANIES = [
    ("한빛", "hanbit"),
    ("세종소프트", "sejongsoft"),
    ("대한물산", "daehan"),
    ("미래테크", "miraetech"),
]
JA_TOWNS = [
    ("100-0005", "東京都千代田区丸の内"),
    ("150-0002", "東京都渋谷区渋谷"),
    ("530-0001", "大阪府大阪市北区梅田"),
    ("460-0008", "愛知県名古屋市中区栄"),
    ("812-0011", "福岡県福岡市博多区博多駅前"),
    ("060-0001", "北海道札幌市中央区北一条西"),
]
KO_TOWNS = [("06236", "서울특별시 강남구 테헤란로"), ("04524", "서울특별시 중구 세종대로")]
KANJI_NUMERALS = "〇一二三四五六七八九"


@dataclass
class Company:
    key: str
    name: str
    korean: bool
    domain: str
    main_phone: str  # national digits
    postal: str
    town: str
    block: tuple[int, int, int]


@dataclass
class Person:
    key: str
    family: str
    family_variant: str
    given: str
    reading: tuple[str, str]  # katakana (Japanese) or "" (Korean)
    romaji: tuple[str, str]
    company: Company
    mobile: str  # national digits
    korean: bool


def _half_width_katakana(text: str) -> str:
    table = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}  # ｦ..ﾝ
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        base = decomposed[0]
        mark = {"\u3099": "ﾞ", "\u309a": "ﾟ"}.get(decomposed[1:], "")
        out.append(table.get(base, "ｰ" if base == "ー" else base) + mark)
    return "".join(out)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used_phones: set[str] = set()

    def phone(self, prefix: str, digits: int) -> str:
        while True:
            number = prefix + "".join(self.rng.choice("0123456789") for _ in range(digits))
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def companies(self) -> list[Company]:
        result = []
        for korean, names, towns in (
            (False, JA_COMPANIES, JA_TOWNS),
            (True, KO_COMPANIES, KO_TOWNS),
        ):
            for name, slug in names:
                postal, town = self.rng.choice(towns)
                result.append(
                    Company(
                        key=slug,
                        name=name,
                        korean=korean,
                        domain=f"{slug}.{'co.kr' if korean else 'co.jp'}",
                        main_phone=self.phone("02" if korean else "03", 8),
                        postal=postal,
                        town=town,
                        block=(
                            self.rng.randint(1, 9),
                            self.rng.randint(1, 30),
                            self.rng.randint(1, 20),
                        ),
                    )
                )
        return result

    def person(self, number: int, company: Company, name=None) -> Person:
        rng = self.rng
        if company.korean:
            (family, family_roman), (given, given_roman) = name or (
                rng.choice(KO_FAMILY),
                rng.choice(KO_GIVEN),
            )
            return Person(
                key=f"p{number}",
                family=family,
                family_variant="",
                given=given,
                reading=("", ""),
                romaji=(family_roman, given_roman),
                company=company,
                mobile=self.phone("010", 8),
                korean=True,
            )
        (family, family_reading, variant), (given, given_reading) = name or (
            rng.choice(JA_FAMILY),
            rng.choice(JA_GIVEN),
        )
        return Person(
            key=f"p{number}",
            family=family,
            family_variant=variant,
            given=given,
            reading=(family_reading, given_reading),
            romaji=(kana_to_romaji(family_reading), kana_to_romaji(given_reading)),
            company=company,
            mobile=self.phone(rng.choice(["090", "080", "070"]), 8),
            korean=False,
        )

    # Spelling variants ---------------------------------------------------------

    def company_name(self, company: Company) -> str:
        name = company.name
        if company.korean:
            forms = [f"주식회사 {name}", f"(주){name}", f"㈜{name}", f"{name} 주식회사", name]
        else:
            if name.isascii() and self.rng.random() < 0.3:
                name = _full_width(name)
            forms = [f"株式会社{name}", f"(株){name}", f"{name}㈱", f"㈱{name}", f"{name}株式会社"]
            if company.name.isascii():
                forms.append(f"{company.name} Co., Ltd.")
        return self.rng.choice(forms)

    def full_name(self, person: Person) -> tuple[str, str]:
        """(氏名, フリガナ) in one of the ways people write them."""
        rng = self.rng
        family = person.family
        if person.family_variant and rng.random() < 0.5:
            family = person.family_variant
        if person.korean:
            return rng.choice([f"{family}{person.given}", f"{family} {person.given}"]), ""
        katakana = f"{person.reading[0]} {person.reading[1]}"
        choice = rng.random()
        if choice < 0.2:
            # A business-card app that only captured the reading.
            return _half_width_katakana(katakana), ""
        separator = rng.choice([" ", "　", ""])
        name = f"{family}{separator}{person.given}"
        reading_form = rng.random()
        if reading_form < 0.4:
            reading = katakana
        elif reading_form < 0.6:
            reading = unicodedata.normalize("NFKC", katakana).translate(
                {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
            )
        elif reading_form < 0.75:
            reading = _half_width_katakana(katakana)
        else:
            reading = ""
        return name, reading

    def email(self, person: Person, shared: bool) -> str:
        rng = self.rng
        domain = person.company.domain
        if shared:
            return rng.choice(["info", "sales", "contact", "support"]) + "@" + domain
        local = f"{person.romaji[1]}.{person.romaji[0]}"
        if rng.random() < 0.3:
            local = local.title()
        if rng.random() < 0.2:
            local += rng.choice(["+crm", "+expo2026", "+news"])
        address = f"{local}@{domain}"
        return address.upper() if rng.random() < 0.1 else address

    def phone_text(self, digits: str, korean: bool) -> str:
        rng = self.rng
        if korean:
            if digits.startswith("010"):
                forms = [
                    f"010-{digits[3:7]}-{digits[7:]}",
                    digits,
                    f"+82 10-{digits[3:7]}-{digits[7:]}",
                ]
            else:
                forms = [
                    f"02-{digits[2:6]}-{digits[6:]}",
                    digits,
                    f"+82 2 {digits[2:6]} {digits[6:]}",
                ]
            return rng.choice(forms)
        area, rest = (
            (digits[:2], digits[2:]) if digits.startswith("03") else (digits[:3], digits[3:])
        )
        local = f"{rest[:-4]}-{rest[-4:]}"
        forms = [
            f"{area}-{local}",
            digits,
            f"+81 {area[1:]} {rest[:-4]} {rest[-4:]}",
            f"({area}){local}",
            _full_width(f"{area}-{local}"),
        ]
        return rng.choice(forms)

    def postal(self, company: Company) -> str:
        rng = self.rng
        code = company.postal
        if company.korean:
            return rng.choice([code, code, ""])
        return rng.choice([code, code.replace("-", ""), f"〒{code}", _full_width(code), ""])

    def address(self, company: Company) -> str:
        rng = self.rng
        a, b, c = company.block
        if company.korean:
            return rng.choice([f"{company.town} {a}{b}", f"{company.town}{a}{b}", ""])
        forms = [
            f"{company.town}{a}丁目{b}番{c}号",
            f"{company.town}{a}-{b}-{c}",
            f"{company.town}{KANJI_NUMERALS[a]}丁目{b}-{c}",
            _full_width(f"{a}-{b}-{c}").join([company.town, ""]),
            f"〒{company.postal} {company.town}{a}丁目{b}番地{c}",
        ]
        return rng.choice(forms + [""])


def generate(*, seed: int = 7, people: int = 300) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Rows with the columns of ``HEADER`` and the true entity of each row id.

    Names are drawn from short lists, so the set stays small: at most a few
    thousand people.
    """
    gen = _Generator(seed)
    rng = gen.rng
    companies = gen.companies()
    capacity = len(JA_FAMILY) * len(JA_GIVEN) * len(JA_COMPANIES) + len(KO_FAMILY) * len(
        KO_GIVEN
    ) * len(KO_COMPANIES)
    if people > capacity // 2:
        raise ValueError(f"at most {capacity // 2} people")
    persons: list[Person] = []
    taken: set[tuple[str, str, str]] = set()
    # One name at one company is one person: nothing could tell two apart.
    while len(persons) < people:
        person = gen.person(len(persons), rng.choice(companies))
        if (person.family, person.given, person.company.key) not in taken:
            taken.add((person.family, person.given, person.company.key))
            persons.append(person)
    # Hard negatives: the same name at another company …
    for person in list(persons[: people // 10]):
        other = rng.choice(
            [c for c in companies if c.korean == person.korean and c is not person.company]
        )
        twin_name: tuple
        if person.korean:
            twin_name = ((person.family, person.romaji[0]), (person.given, person.romaji[1]))
        else:
            family = next(f for f in JA_FAMILY if f[0] == person.family)
            twin_name = (family, (person.given, person.reading[1]))
        twin = gen.person(len(persons), other, twin_name)
        if (twin.family, twin.given, other.key) not in taken:
            taken.add((twin.family, twin.given, other.key))
            persons.append(twin)
    # … and colleagues who give the team address and the main number.
    team_players = set(rng.sample(range(len(persons)), len(persons) // 5))
    for index, person in enumerate(persons[: people // 10]):
        colleague = gen.person(len(persons), person.company)
        if (colleague.family, colleague.given, person.company.key) in taken:
            continue
        taken.add((colleague.family, colleague.given, person.company.key))
        persons.append(colleague)
        team_players.update({index, len(persons) - 1})

    rows: list[dict[str, str]] = []
    truth: dict[str, str] = {}
    for index, person in enumerate(persons):
        copies = rng.choice([1, 1, 2, 2, 2, 3, 3, 4])
        for _ in range(copies):
            shared = index in team_players and rng.random() < 0.7
            full_name, reading = gen.full_name(person)
            phone_digits = person.company.main_phone if shared else person.mobile
            row = {
                "No": str(len(rows) + 1),
                "会社名": gen.company_name(person.company),
                "氏名": full_name,
                "フリガナ": reading,
                "メール": gen.email(person, shared) if rng.random() < 0.85 else "",
                "電話番号": gen.phone_text(phone_digits, person.korean)
                if rng.random() < 0.85
                else "",
                "郵便番号": gen.postal(person.company),
                "住所": gen.address(person.company),
            }
            truth[row["No"]] = person.key
            rows.append(row)
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], truth
