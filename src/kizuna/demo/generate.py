"""Generate realistic Japanese and Korean CRM data, fast and reproducibly.

The generator produces plain rows (dicts keyed by column attname, with the
ids assigned up front) in batches of ``{model: [row, ...]}``. ``kizuna
demo`` writes them with ``bulk_create``; the benchmarks write the same rows
with ``executemany`` or ``COPY``. Derived columns (``name_key``, ``path``,
``search_index``, E.164 phones, ``Activity.company``) are computed exactly as
the services compute them; ``tests/test_demo.py`` checks that.
"""

import bisect
import datetime
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.core.models import (
    AccessLevel,
    AccessPolicy,
    CustomFieldDefinition,
    ObjectType,
    OrgSettings,
    Tag,
)
from kizuna.core.text import _WORD_SPLIT_RE, company_key, search_grams
from kizuna.core.validators import corporate_number_check_digit
from kizuna.customers.models import (
    Company,
    Contact,
    ContactEmail,
    ContactEmployment,
    ContactPhone,
    Lead,
)
from kizuna.demo import names as N
from kizuna.demo.deals import create_demo_deals, create_demo_targets, start_demo_lead_slas
from kizuna.iam.models import Role, Team, User
from kizuna.sales.models import Deal, DealContact, StageChange

Row = dict[str, Any]
Batch = dict[type[models.Model], list[Row]]
UTC = datetime.UTC

CompanyTag = Company.tags.through
ContactTag = Contact.tags.through
LeadTag = Lead.tags.through
ActivityParticipant = Activity.participants.through
ActivityParticipantUser = Activity.participant_users.through

# Tables in the order they are written (parents first) and deleted (reverse).
TABLE_ORDER: list[type[models.Model]] = [
    Company,
    CompanyTag,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactEmployment,
    ContactTag,
    Lead,
    LeadTag,
    Activity,
    ActivityParticipant,
    ActivityParticipantUser,
]

DEMO_TAGS = ["重要顧客", "要フォロー", "展示会2024", "代理店", "VIP", "휴면고객"]

CUSTOM_FIELDS = [
    # (object type, key, label, ja, ko, type, choices, show in list)
    (
        "company",
        "deal_type",
        "Account type",
        "取引区分",
        "거래 구분",
        "select",
        ["新規", "既存", "休眠", "代理店"],
        True,
    ),
    ("company", "annual_budget", "Annual budget", "年間予算", "연간 예산", "money", [], False),
    ("company", "fiscal_month", "Fiscal year end", "決算月", "결산월", "number", [], False),
    (
        "contact",
        "card_exchanged_on",
        "Business card exchanged",
        "名刺交換日",
        "명함 교환일",
        "date",
        [],
        False,
    ),
    ("contact", "hobby", "Hobby", "趣味", "취미", "text", [], False),
]

NEXT_ACTIONS_JA = [
    "見積書提出",
    "再訪問",
    "デモ日程調整",
    "稟議状況の確認",
    "契約書回収",
    "資料送付",
]
NEXT_ACTIONS_KO = ["견적서 제출", "재방문", "데모 일정 조율", "계약서 회수"]


# Search text ---------------------------------------------------------------

_grams_cache: dict[str, str] = {}


def grams(*values: str | None) -> str:
    """``search_grams(*values)``, memoised per value.

    ``search_grams`` handles each value on its own and joins the results
    with a space, so joining memoised per-value results gives the same text.
    """
    out = []
    cache = _grams_cache
    for value in values:
        if not value:
            continue
        g = cache.get(value)
        if g is None:
            if value.isascii() and value.isdigit():
                # Phone numbers: unique, so not memoised.
                g = " ".join([value[i : i + 2] for i in range(len(value) - 1)] + [value[-1]])
            else:
                if len(cache) > 500_000:
                    cache.clear()
                g = search_grams(value) if not value.isascii() else _ascii_grams(value)
                cache[value] = g
        if g:
            out.append(g)
    return " ".join(out)


def _ascii_grams(value: str) -> str:
    """``search_grams(value)`` for ASCII text, where ``normalize`` only lowers case."""
    out = []
    for word in _WORD_SPLIT_RE.split(value.lower()):
        if not word:
            continue
        if len(word) == 1:
            out.append(word)
        else:
            out.extend([word[i : i + 2] for i in range(len(word) - 1)])
            out.append(word[-1])
    return " ".join(out)


_key_cache: dict[str, str] = {}


def _company_key(name: str) -> str:
    key = _key_cache.get(name)
    if key is None:
        key = _key_cache[name] = company_key(name)
    return key


def company_search_index(row: Row) -> str:
    """``Company.refresh_search_index()`` for a row (see ``search_values``)."""
    return grams(
        row["name"],
        row["name_reading"],
        row["corporate_number"],
        row["domain"],
        row["city"],
        row["phone"].lstrip("+"),
    )


_group_cache: dict[tuple, str] = {}


def _grams_of(values: tuple) -> str:
    """``grams(*values)``, memoised for the whole tuple (values that repeat together)."""
    g = _group_cache.get(values)
    if g is None:
        if len(_group_cache) > 500_000:
            _group_cache.clear()
        g = _group_cache[values] = grams(*values)
    return g


def _digit_grams(number: str) -> str:
    """``grams(number)`` for a phone number's digits."""
    return " ".join([number[i : i + 2] for i in range(len(number) - 1)] + [number[-1]])


def contact_search_index(row: Row, emails: list[str], phones: list[str]) -> str:
    """As ``customers.services._prepare_contact`` computes it.

    The grams of the name, of title and department, and of each address
    are memoised as groups; joining the non-empty groups with a space gives
    the same text as ``grams`` of all the values.
    """
    family, given = row["family_name"], row["given_name"]
    parts = [
        _grams_of(
            (
                family + given,
                family,
                given,
                row["family_name_reading"] + row["given_name_reading"],
            )
        ),
        _grams_of((row["title"], row["department"])),
    ]
    cache = _grams_cache
    for email in emails:
        # "@" separates words, so an address's two halves give the same
        # grams as the whole, and the halves repeat (memoised).
        local, _at, domain = email.partition("@")
        local_grams = cache.get(local)
        domain_grams = cache.get(domain)
        if local_grams and domain_grams:
            parts.append(f"{local_grams} {domain_grams}")
        else:
            parts.append(grams(local, domain))
    for phone in phones:
        digits = phone.lstrip("+")
        if digits:
            parts.append(_digit_grams(digits))
    return " ".join([p for p in parts if p])


def lead_search_index(row: Row) -> str:
    return grams(
        row["family_name"] + row["given_name"],
        row["family_name_reading"] + row["given_name_reading"],
        row["company_name"],
        row["email"],
        row["phone"].lstrip("+"),
        row["campaign"],
    )


def activity_search_index(row: Row) -> str:
    return grams(row["subject"], row["body"][:500])


# The organisation --------------------------------------------------------------


@dataclass
class Seat:
    """A team that owns customers of one region, and the users who own them."""

    team_id: int
    region: str  # "east", "kansai" or "kr"
    owner_ids: list[int]


@dataclass
class Org:
    seats: list[Seat]
    admin: User
    users: list[User] = field(default_factory=list)
    # A rep who sees her team's data (used by the benchmarks).
    rep: User | None = None

    def seats_for(self, region: str) -> list[Seat]:
        return [s for s in self.seats if s.region == region] or self.seats


def _user(username, display_name, *, team, role, password_hash, language="ja", **extra) -> User:
    return User(
        username=username,
        display_name=display_name,
        email=f"{username}@kizuna-demo.example",
        team=team,
        role=role,
        language=language,
        timezone="Asia/Seoul" if language == "ko" else "Asia/Tokyo",
        password=password_hash,
        **extra,
    )


DEMO_USERNAMES = [
    "demo",
    "yamamoto",
    "sato",
    "takahashi",
    "ito",
    "kobayashi",
    "watanabe",
    "suzuki",
    "nakamura",
    "matsumoto",
    "inoue",
    "kimura",
    "kim.minjun",
    "lee.seoyeon",
    "park.jihoon",
    "choi.subin",
]
DEMO_TEAMS = ["東京営業部", "関西営業部", "서울영업팀"]
DEMO_ROLES = [
    "営業本部長",
    "東京営業部長",
    "東京営業一課長",
    "東京営業部員",
    "関西営業部長",
    "関西営業部員",
    "서울영업팀장",
    "서울영업팀원",
]


def create_demo_org(password: str) -> Org:
    """Three teams in a role hierarchy, an org admin and the reps."""
    pw = make_password(password)
    tokyo, kansai, seoul = (Team.objects.create(name=n) for n in DEMO_TEAMS)
    roles: dict[str, Role] = {}
    for name, parent in [
        ("営業本部長", None),
        ("東京営業部長", "営業本部長"),
        ("東京営業一課長", "東京営業部長"),
        ("東京営業部員", "東京営業一課長"),
        ("関西営業部長", "営業本部長"),
        ("関西営業部員", "関西営業部長"),
        ("서울영업팀장", "営業本部長"),
        ("서울영업팀원", "서울영업팀장"),
    ]:
        roles[name] = Role.objects.create(name=name, parent=roles.get(parent) if parent else None)
    r = roles
    users = [
        _user("demo", "デモ 管理者", team=tokyo, role=None, password_hash=pw, is_org_admin=True),
        _user("yamamoto", "山本 誠", team=tokyo, role=r["営業本部長"], password_hash=pw),
        _user("sato", "佐藤 健一", team=tokyo, role=r["東京営業部長"], password_hash=pw),
        _user("takahashi", "髙橋 陽子", team=tokyo, role=r["東京営業一課長"], password_hash=pw),
        _user("ito", "伊藤 美咲", team=tokyo, role=r["東京営業部員"], password_hash=pw),
        _user("kobayashi", "小林 翔太", team=tokyo, role=r["東京営業部員"], password_hash=pw),
        _user("watanabe", "渡辺 彩", team=tokyo, role=r["東京営業部員"], password_hash=pw),
        _user("suzuki", "鈴木 大輔", team=tokyo, role=r["東京営業部員"], password_hash=pw),
        _user("nakamura", "中村 浩二", team=kansai, role=r["関西営業部長"], password_hash=pw),
        _user("matsumoto", "松本 恵", team=kansai, role=r["関西営業部員"], password_hash=pw),
        _user("inoue", "井上 拓也", team=kansai, role=r["関西営業部員"], password_hash=pw),
        _user("kimura", "木村 結衣", team=kansai, role=r["関西営業部員"], password_hash=pw),
        _user(
            "kim.minjun",
            "김민준",
            team=seoul,
            role=r["서울영업팀장"],
            password_hash=pw,
            language="ko",
        ),
        _user(
            "lee.seoyeon",
            "이서연",
            team=seoul,
            role=r["서울영업팀원"],
            password_hash=pw,
            language="ko",
        ),
        _user(
            "park.jihoon",
            "박지훈",
            team=seoul,
            role=r["서울영업팀원"],
            password_hash=pw,
            language="ko",
        ),
        _user(
            "choi.subin",
            "최수빈",
            team=seoul,
            role=r["서울영업팀원"],
            password_hash=pw,
            language="ko",
        ),
    ]
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__in=DEMO_USERNAMES))
    by_name = {u.username: u for u in users}

    def ids(*usernames):
        return [by_name[n].pk for n in usernames]

    seats = [
        Seat(tokyo.pk, "east", ids("ito", "kobayashi", "watanabe", "suzuki", "takahashi")),
        Seat(kansai.pk, "kansai", ids("matsumoto", "inoue", "kimura", "nakamura")),
        Seat(seoul.pk, "kr", ids("lee.seoyeon", "park.jihoon", "choi.subin", "kim.minjun")),
    ]
    return Org(seats=seats, admin=by_name["demo"], users=users, rep=by_name["ito"])


def create_scaled_org(*, teams: int, users: int, password: str, prefix: str = "bench") -> Org:
    """``teams`` teams (one Korean, about a third Kansai) with ``users`` users in all.

    Each team has a lead whose role is above the team's reps, under one head
    of sales; the first user is the org admin.
    """
    pw = make_password(password)
    head_role = Role.objects.create(name=f"{prefix}-営業本部長")
    admin = _user(f"{prefix}-admin", "管理者", team=None, role=None, password_hash=pw)
    admin.is_org_admin = True
    admin.save()
    per_team = max(2, (users - 1) // teams)
    seats = []
    rep: User | None = None
    for t in range(teams):
        region = "kr" if t == teams - 1 and teams > 1 else ("kansai" if t % 3 == 1 else "east")
        name = f"서울영업{t}팀" if region == "kr" else f"営業{t + 1}部"
        team = Team.objects.create(name=f"{prefix}-{name}")
        lead_role = Role.objects.create(name=f"{prefix}-{name}長", parent=head_role)
        rep_role = Role.objects.create(name=f"{prefix}-{name}員", parent=lead_role)
        language = "ko" if region == "kr" else "ja"
        members = [
            _user(
                f"{prefix}-t{t}-u{i}",
                f"担当{t}-{i}",
                team=team,
                role=lead_role if i == 0 else rep_role,
                password_hash=pw,
                language=language,
            )
            for i in range(per_team)
        ]
        User.objects.bulk_create(members)
        member_ids = list(
            User.objects.filter(team=team).order_by("id").values_list("id", flat=True)
        )
        seats.append(Seat(team.pk, region, member_ids))
        if rep is None:
            rep = User.objects.get(pk=member_ids[1])
    return Org(seats=seats, admin=admin, rep=rep)


def create_reference_data(*, org_name: str = "絆デモ株式会社") -> None:
    """Org settings, team-level access policies, tags and custom fields."""
    settings_row = OrgSettings.get()
    settings_row.name = org_name
    settings_row.fiscal_year_start_month = 4
    settings_row.save()
    for object_type in ObjectType.values:
        AccessPolicy.objects.update_or_create(
            object_type=object_type, defaults={"level": AccessLevel.TEAM}
        )
    palette = ["#dc2626", "#d97706", "#2563eb", "#059669", "#7c3aed", "#64748b"]
    for name, color in zip(DEMO_TAGS, palette, strict=True):
        Tag.objects.get_or_create(name=name, defaults={"color": color})
    for position, (otype, key, label, ja, ko, ftype, choices, in_list) in enumerate(CUSTOM_FIELDS):
        CustomFieldDefinition.objects.get_or_create(
            object_type=otype,
            key=key,
            defaults=dict(
                label=label,
                label_ja=ja,
                label_ko=ko,
                field_type=ftype,
                choices=choices,
                currency="JPY",
                show_in_list=in_list,
                position=position,
            ),
        )


class CustomValues:
    """Custom field values cleaned as ``core.customfields`` does on a write.

    Each value is cleaned on its own (no demo field is required, so that
    gives the same result as cleaning them together) and memoised.
    """

    def __init__(self):
        from kizuna.core.customfields import clean_values

        self._clean_values = clean_values
        self._cache: dict[tuple, dict] = {}

    def __call__(self, object_type: str, **raw: Any) -> dict:
        result: dict = {}
        for item in raw.items():
            key = (object_type, *item)
            cleaned = self._cache.get(key)
            if cleaned is None:
                cleaned = self._cache[key] = self._clean_values(object_type, dict([item]))
            result.update(cleaned)
        return result


# Tables whose ids the generator assigns.
ID_TABLES: list[type[models.Model]] = [Company, Contact, Lead, Activity]


def first_ids() -> dict[type[models.Model], int]:
    """The next free id of the tables whose ids the generator assigns."""
    result = {}
    for model in ID_TABLES:
        top = model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
        result[model] = top + 1
    return result


# Rows ----------------------------------------------------------------------------


@dataclass
class CompanyRef:
    id: int
    top_id: int
    owner_id: int
    team_id: int
    kr: bool
    domain: str
    area: str
    name: str


@dataclass
class ContactRef:
    id: int
    company_id: int | None
    owner_id: int
    team_id: int
    kr: bool


class Generator:
    """Rows for every customer table; one instance per data set.

    ``custom`` cleans custom field values (``CustomValues``); without it
    no custom field values are set.
    """

    def __init__(
        self,
        org: Org,
        *,
        seed: int = 2024,
        now: datetime.datetime | None = None,
        korean_share: float = 0.15,
        tag_ids: list[int] | None = None,
        custom: Callable[..., dict] | None = None,
    ):
        self.org = org
        self.rng = random.Random(seed)
        self.now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        self.korean_share = korean_share
        self.tag_ids = tag_ids or []
        self.custom = custom
        self.companies: list[CompanyRef] = []
        self.contacts: list[ContactRef] = []
        self.contacts_by_company: dict[int, list[int]] = {}
        self.lead_refs: list[tuple[int, int, int, bool]] = []
        self._domains: set[str] = set()
        self._emails: set[str] = set()
        self._owner_team = {o: s.team_id for s in org.seats for o in s.owner_ids}
        self._seats = {region: org.seats_for(region) for region in ("east", "kansai", "kr")}
        r = self.rng
        self._jp_prefs = list(N.JP_CITIES)
        self._jp_pref_w = [N.JP_PREFECTURE_WEIGHTS.get(p, 1) for p in self._jp_prefs]
        self._kr_prefs = list(N.KR_CITIES)
        self._kr_pref_w = [N.KR_PREFECTURE_WEIGHTS[p] for p in self._kr_prefs]
        self._industries = list(N.INDUSTRY_WEIGHTS)
        self._industry_w = list(N.INDUSTRY_WEIGHTS.values())
        self._sizes = ["1-9", "10-49", "50-99", "100-299", "300-999", "1000+"]
        self._size_w = [10, 25, 20, 20, 15, 10]
        self._jp_titles = [t for t, _w in N.JP_TITLES]
        self._jp_title_w = [w for _t, w in N.JP_TITLES]
        self._kr_titles = [t for t, _w in N.KR_TITLES]
        self._kr_title_w = [w for _t, w in N.KR_TITLES]
        self._jp_title_pool = [t for t, w in N.JP_TITLES for _ in range(w)]
        self._kr_title_pool = [t for t, w in N.KR_TITLES for _ in range(w)]
        self._kinds = [k for k in Activity.Kind.values if k != Activity.Kind.STAGE]
        self._kind_w = [30, 12, 10, 25, 13, 10]  # call meeting visit email note task
        # Plain index arithmetic on random(): several times faster than
        # Random.choice and Random.randint, and as reproducible.
        rand = r.random
        self._random = rand
        self._getrandbits = r.getrandbits
        self._choice = lambda seq: seq[int(rand() * len(seq))]
        self._randint = lambda a, b: a + int(rand() * (b - a + 1))
        self._pick_industry = self._weighted(self._industries, self._industry_w)
        self._pick_size = self._weighted(self._sizes, self._size_w)
        self._pick_jp_pref = self._weighted(self._jp_prefs, self._jp_pref_w)
        self._pick_kr_pref = self._weighted(self._kr_prefs, self._kr_pref_w)
        # Legal forms of a Japanese company name (prefix, suffix), weighted;
        # small companies can also be 有限会社.
        forms = [
            (("株式会社", ""), 34),
            (("", "株式会社"), 26),
            (("㈱", ""), 7),
            (("", "㈱"), 4),
            (("(株)", ""), 6),
            (("", "(株)"), 4),
            (("合同会社", ""), 3),
            (("", ""), 4),
        ]
        small_forms = [*forms, (("有限会社", ""), 14)]
        self._pick_jp_form = self._weighted([f for f, _w in forms], [w for _f, w in forms])
        self._pick_small_jp_form = self._weighted(
            [f for f, _w in small_forms], [w for _f, w in small_forms]
        )
        # Korean forms: 9 × "주식회사 X", 3 × "X 주식회사", 4 × "㈜X", 4 × "(주)X".
        self._kr_forms = [("주식회사 ", "")] * 9 + [("", " 주식회사")] * 3
        self._kr_forms += [("㈜", "")] * 4 + [("(주)", "")] * 4

    def _sample(self, population: list, k: int) -> list:
        """``rng.sample(population, k)`` for k <= 5: the same draws, with less overhead.

        As ``random.Random.sample``: a population of up to 21 is drawn from
        a pool, a bigger one by retrying indexes already drawn; each index is
        ``_randbelow`` (getrandbits, retried while out of range).
        """
        n = len(population)
        getrandbits = self._getrandbits
        result = []
        if n <= 21:
            pool = list(population)
            for i in range(k):
                m = n - i
                bits = m.bit_length()
                j = getrandbits(bits)
                while j >= m:
                    j = getrandbits(bits)
                result.append(pool[j])
                pool[j] = pool[m - 1]
        else:
            bits = n.bit_length()
            selected: set[int] = set()
            for _ in range(k):
                j = getrandbits(bits)
                while j >= n or j in selected:
                    j = getrandbits(bits)
                selected.add(j)
                result.append(population[j])
        return result

    def _weighted(self, population: list, weights: list[int]) -> Callable[[], Any]:
        """A function drawing ``rng.choices(population, weights)[0]``.

        The same draws from the same random numbers, without accumulating
        the weights on every call.
        """
        cum_weights = list(itertools.accumulate(weights))
        total = cum_weights[-1] + 0.0
        hi = len(cum_weights) - 1
        rand = self._random
        find = bisect.bisect
        return lambda: population[find(cum_weights, rand() * total, 0, hi)]

    # Helpers ---------------------------------------------------------------------

    def _past(self, max_days: float, min_days: float = 0.0) -> datetime.datetime:
        """A time in the past; recent times are more likely."""
        rand = self._random
        days = min_days + (max_days - min_days) * rand() ** 1.4
        t = self.now - datetime.timedelta(days=days)
        # Office hours, Japan time (UTC+9): 00:00–09:59 UTC (randint(0, 9), randint(0, 59)).
        return t.replace(hour=int(rand() * 10), minute=int(rand() * 60), second=0, microsecond=0)

    def _digits(self, n: int) -> str:
        """``n`` digits, not starting with 0 or 1."""
        # The first digit (2–9) and then the rest (randint(0, 10**(n-1) - 1),
        # zero-padded), as one number.
        rand, rest = self._random, 10 ** (n - 1)
        return str((2 + int(rand() * 8)) * rest + int(rand() * rest))

    def _landline(self, kr: bool, area: str) -> str:
        if kr:
            # 02-XXXX-XXXX in Seoul, 0XX-XXXX-XXXX elsewhere.
            return f"+82{area}{self._digits(8)}"
        # Japanese landlines have nine digits after the leading 0.
        return f"+81{area}{self._digits(9 - len(area))}"

    def _mobile(self, kr: bool) -> str:
        if kr:
            return f"+8210{self._digits(8)}"
        return f"+81{self._choice(['90', '80', '70'])}{self._digits(8)}"

    def _owner(self, region: str) -> tuple[int, int]:
        seat = self._choice(self._seats[region])
        owner = self._choice(seat.owner_ids)
        return owner, seat.team_id

    def _tags(self, through, column: str, object_id: int, share: float) -> list[Row]:
        if not self.tag_ids or self._random() >= share:
            return []
        picked = self._sample(self.tag_ids, self._randint(1, 2))
        return [{column: object_id, "tag_id": t} for t in picked]

    def _next_action(self, kr: bool, share: float) -> tuple[str, datetime.date | None]:
        if self._random() >= share:
            return "", None
        text = self._choice(NEXT_ACTIONS_KO if kr else NEXT_ACTIONS_JA)
        return text, self.today + datetime.timedelta(days=self._randint(-10, 30))

    # Companies -----------------------------------------------------------------------

    def company_batches(self, count: int, first_id: int, batch: int = 20_000) -> Iterator[Batch]:
        """``count`` company rows: companies with some divisions and sites."""
        rows: list[Row] = []
        tags: list[Row] = []
        next_id = first_id
        made = 0
        while made < count:
            tree = self._company_tree(next_id, count - made)
            for row in tree:
                tags.extend(self._tags(CompanyTag, "company_id", row["id"], 0.12))
            rows.extend(tree)
            next_id += len(tree)
            made += len(tree)
            if len(rows) >= batch:
                yield {Company: rows, CompanyTag: tags}
                rows, tags = [], []
        if rows:
            yield {Company: rows, CompanyTag: tags}

    def _company_tree(self, first_id: int, room: int) -> list[Row]:
        kr = self._random() < self.korean_share
        industry = self._pick_industry()
        size = self._pick_size()
        if kr:
            stem, stem_r = self._choice(N.KR_COMPANY_STEMS)
            word, word_r = self._choice(N.KR_BUSINESS_WORDS[industry])
            core_name = stem + word
            reading = core_name
            prefix, suffix = self._choice(self._kr_forms)
            name = f"{prefix}{core_name}{suffix}"
            slug = f"{stem_r}{word_r}"
            tld = ".co.kr"
            prefecture = self._pick_kr_pref()
            region = "kr"
            corporate_number = ""
        else:
            stem, stem_r, stem_slug = self._choice(N.JP_COMPANY_STEMS)
            word, word_r, word_slug = self._choice(N.JP_BUSINESS_WORDS[industry])
            place = ("", "", "")
            if self._random() < 0.45:
                place = self._choice(N.JP_COMPANY_PLACES)
            core_name = place[0] + stem + word
            reading = place[1] + stem_r + word_r
            small = size in ("1-9", "10-49")
            prefix, suffix = (self._pick_small_jp_form if small else self._pick_jp_form)()
            name = f"{prefix}{core_name}{suffix}"
            slug = f"{place[2]}{stem_slug}-{word_slug}".lstrip("-")
            tld = ".co.jp"
            prefecture = self._pick_jp_pref()
            region = "kansai" if prefecture in N.KANSAI else "east"
            base = f"{self._randint(1, 9)}{self._randint(0, 10**11 - 1):011d}"
            corporate_number = f"{corporate_number_check_digit(base)}{base}"
        domain = slug + tld
        n = 2
        while domain in self._domains:
            domain = f"{slug}{n}{tld}"
            n += 1
        self._domains.add(domain)
        owner_id, team_id = self._owner(region)
        top = self._company_row(
            first_id,
            None,
            "/",
            Company.Kind.COMPANY,
            name,
            reading,
            corporate_number,
            industry,
            size,
            prefecture,
            kr,
            domain,
            owner_id,
            team_id,
        )
        rows = [top]
        # Divisions and sites for the bigger customers.
        if size == "1000+":
            units = self._randint(1, 3)
        elif size == "300-999":
            units = self._randint(0, 2)
        elif size == "100-299" and self._random() < 0.3:
            units = 1
        else:
            units = 0
        next_id = first_id + 1
        for _ in range(units):
            if len(rows) >= room:
                break
            division = size == "1000+" and self._random() < 0.6
            label = self._choice(
                (N.KR_DIVISIONS if division else N.KR_SITES)
                if kr
                else (N.JP_DIVISIONS if division else N.JP_SITES)
            )
            unit = self._company_row(
                next_id,
                top,
                top["path"],
                Company.Kind.DIVISION if division else Company.Kind.SITE,
                f"{core_name} {label}",
                f"{reading} {label}" if kr else reading,
                "",
                industry,
                "",
                N.SITE_PREFECTURES.get(label, prefecture),
                kr,
                "",
                owner_id,
                team_id,
            )
            rows.append(unit)
            next_id += 1
            if division and len(rows) < room and self._random() < 0.6:
                site_label = self._choice(N.KR_SITES if kr else N.JP_SITES)
                rows.append(
                    self._company_row(
                        next_id,
                        unit,
                        unit["path"],
                        Company.Kind.SITE,
                        f"{core_name} {site_label}",
                        f"{reading} {site_label}" if kr else reading,
                        "",
                        industry,
                        "",
                        N.SITE_PREFECTURES.get(site_label, prefecture),
                        kr,
                        "",
                        owner_id,
                        team_id,
                    )
                )
                next_id += 1
        return rows

    def _company_row(
        self,
        pk,
        parent,
        parent_path,
        kind,
        name,
        reading,
        corporate_number,
        industry,
        size,
        prefecture,
        kr,
        domain,
        owner_id,
        team_id,
    ) -> Row:
        city, postal, area = self._choice((N.KR_CITIES if kr else N.JP_CITIES)[prefecture])
        if kr:
            postal_code = f"{postal}{self._randint(0, 999):03d}"
            street = f"{self._choice(N.KR_STREETS)} {self._randint(1, 400)}"
            building = (
                f"{self._choice(['한빛', '미래', '센트럴', '트윈'])}빌딩 {self._randint(2, 20)}층"
                if self._random() < 0.6
                else ""
            )
        else:
            postal_code = f"{postal}-{self._randint(0, 9999):04d}"
            street = (
                f"{self._choice(N.JP_STREETS)}{self._randint(1, 5)}-"
                f"{self._randint(1, 30)}-{self._randint(1, 20)}"
            )
            building = (
                self._choice(N.JP_BUILDINGS).format(place=self._choice(N.JP_STREETS))
                + f" {self._randint(2, 30)}F"
                if self._random() < 0.6
                else ""
            )
        created = self._past(1100, 30)
        next_action, next_due = self._next_action(kr, 0.25 if parent is None else 0.05)
        custom: dict = {}
        if self.custom and parent is None and self._random() < 0.7:
            raw: dict[str, Any] = {
                "deal_type": self._choice(["新規", "既存", "既存", "休眠", "代理店"])
            }
            if self._random() < 0.6:
                raw["annual_budget"] = self._choice([1, 2, 3, 5, 8, 10, 20, 50]) * 1_000_000
            if not kr:
                raw["fiscal_month"] = self._choice([3, 3, 3, 3, 12, 9, 6])
            custom = self.custom("company", **raw)
        row = {
            "id": pk,
            "kind": str(kind),
            "parent_id": parent["id"] if parent else None,
            "path": f"{parent_path}{pk}/",
            "name": name,
            "name_reading": reading,
            "name_key": _company_key(name),
            "corporate_number": corporate_number,
            "industry": industry,
            "size": size,
            "postal_code": postal_code,
            "prefecture": prefecture,
            "city": city,
            "street": street,
            "building": building,
            "website": f"https://www.{domain}/" if domain else "",
            "domain": domain,
            "phone": self._landline(kr, area),
            "owner_id": owner_id,
            "team_id": team_id,
            "version": 1,
            "created_at": created,
            "updated_at": created + (self.now - created) * self._random(),
            "custom_field_data": custom,
            "next_action": next_action,
            "next_action_due": next_due,
        }
        row["search_index"] = company_search_index(row)
        top_id = parent["path"].strip("/").split("/")[0] if parent else pk
        self.companies.append(
            CompanyRef(
                pk,
                int(top_id),
                owner_id,
                team_id,
                kr,
                domain or (parent and parent.get("domain")) or "",
                area,
                name,
            )
        )
        return row

    # Contacts ------------------------------------------------------------------------

    def _person(self, kr: bool) -> tuple[str, str, str, str, str, str]:
        """family, given, family reading, given reading, family slug, given slug."""
        if kr:
            fam, fam_s = self._choice(N.KR_FAMILY)
            giv, giv_s = self._choice(N.KR_GIVEN)
            return fam, giv, fam, giv, fam_s, giv_s
        fam, fam_r, fam_s = self._choice(N.JP_FAMILY)
        giv, giv_r, giv_s = self._choice(
            N.JP_GIVEN_FEMALE if self._random() < 0.4 else N.JP_GIVEN_MALE
        )
        return fam, giv, fam_r, giv_r, fam_s, giv_s

    def _unique_email(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        n = 2
        while email in self._emails:
            email = f"{local}{n}@{domain}"
            n += 1
        self._emails.add(email)
        return email

    def contact_batches(self, count: int, first_id: int, batch: int = 20_000) -> Iterator[Batch]:
        """Contacts with e-mails, phones, employment history and tags."""
        companies = self.companies
        empty = self._empty_batch(
            Contact, ContactEmail, ContactPhone, ContactEmployment, ContactTag
        )
        out = empty()
        rand, choice, randint = self._random, self._choice, self._randint
        person, unique_email, landline, past = (
            self._person,
            self._unique_email,
            self._landline,
            self._past,
        )
        now, korean_share = self.now, self.korean_share
        jp_titles, kr_titles = self._jp_title_pool, self._kr_title_pool
        contact_refs, by_company = self.contacts, self.contacts_by_company
        timedelta = datetime.timedelta
        out_contacts, out_emails, out_phones = out[Contact], out[ContactEmail], out[ContactPhone]
        for i in range(count):
            pk = first_id + i
            company = choice(companies) if companies and rand() < 0.97 else None
            kr = company.kr if company else rand() < korean_share
            fam, giv, fam_r, giv_r, fam_s, giv_s = person(kr)
            if kr:
                title = choice(kr_titles)
                department = choice(N.KR_DEPARTMENTS)
            else:
                title = choice(jp_titles)
                department = choice(N.JP_DEPARTMENTS) if title != "代表取締役社長" else ""
            if company:
                owner_id, team_id = company.owner_id, company.team_id
                if rand() < 0.1:
                    owner_id, team_id = self._owner("kr" if kr else "east")
                domain = company.domain or "example.co.jp"
            else:
                owner_id, team_id = self._owner("kr" if kr else "east")
                domain = "example.co.kr" if kr else "example.co.jp"
            emails = [unique_email(f"{giv_s[0]}.{fam_s}", domain)]
            if rand() < 0.3:
                free = choice(
                    ["naver.com", "gmail.com"] if kr else ["gmail.com", "yahoo.co.jp", "icloud.com"]
                )
                emails.append(unique_email(f"{fam_s}.{giv_s}{randint(1, 99)}", free))
            phones = [landline(kr, company.area if company else ("2" if kr else "3"))]
            if rand() < 0.45:
                phones.append(self._mobile(kr))
            created = past(900, 5)
            next_action, next_due = self._next_action(kr, 0.12)
            custom: dict = {}
            if self.custom and rand() < 0.3:
                raw: dict[str, Any] = {
                    "card_exchanged_on": (created - timedelta(days=randint(0, 60)))
                    .date()
                    .isoformat()
                }
                if rand() < 0.3:
                    raw["hobby"] = choice(N.KR_HOBBIES if kr else N.JP_HOBBIES)
                custom = self.custom("contact", **raw)
            row = {
                "id": pk,
                "family_name": fam,
                "given_name": giv,
                "family_name_reading": fam_r,
                "given_name_reading": giv_r,
                "title": title,
                "department": department,
                "company_id": company.id if company else None,
                "notes": "",
                "owner_id": owner_id,
                "team_id": team_id,
                "version": 1,
                "created_at": created,
                "updated_at": created + (now - created) * rand(),
                "custom_field_data": custom,
                "next_action": next_action,
                "next_action_due": next_due,
            }
            row["search_index"] = contact_search_index(row, emails, phones)
            out_contacts.append(row)
            for position, email in enumerate(emails):
                out_emails.append(
                    {
                        "contact_id": pk,
                        "email": email,
                        "label": "work" if position == 0 else "personal",
                        "position": position,
                    }
                )
            for position, number in enumerate(phones):
                out_phones.append(
                    {
                        "contact_id": pk,
                        "number": number,
                        "label": "work" if position == 0 else "mobile",
                        "position": position,
                    }
                )
            if company:
                started = created.date()
                if rand() < 0.08 and len(companies) > 1:
                    # Moved here from another customer.
                    before = choice(companies)
                    if before.id != company.id:
                        out[ContactEmployment].append(
                            {
                                "contact_id": pk,
                                "company_id": before.id,
                                "title": choice(self._kr_titles if kr else self._jp_titles),
                                "department": department,
                                "started_on": started - timedelta(days=1500),
                                "ended_on": started - timedelta(days=1),
                            }
                        )
                out[ContactEmployment].append(
                    {
                        "contact_id": pk,
                        "company_id": company.id,
                        "title": title,
                        "department": department,
                        "started_on": started,
                        "ended_on": None,
                    }
                )
                by_company.setdefault(company.id, []).append(pk)
            out[ContactTag].extend(self._tags(ContactTag, "contact_id", pk, 0.08))
            contact_refs.append(
                ContactRef(pk, company.id if company else None, owner_id, team_id, kr)
            )
            if len(out_contacts) >= batch:
                yield out
                out = empty()
                out_contacts, out_emails, out_phones = (
                    out[Contact],
                    out[ContactEmail],
                    out[ContactPhone],
                )
        if out[Contact]:
            yield out

    @staticmethod
    def _empty_batch(*tables) -> Callable[[], Batch]:
        return lambda: {t: [] for t in tables}

    # Leads ---------------------------------------------------------------------------

    def lead_batches(self, count: int, first_id: int, batch: int = 20_000) -> Iterator[Batch]:
        statuses = list(Lead.Status.values)  # new working qualified converted disqualified
        status_w = [30, 28, 14, 12, 16]
        pick_status = self._weighted(statuses, status_w)
        out = self._empty_batch(Lead, LeadTag)()
        for i in range(count):
            pk = first_id + i
            channel, campaign, utm_source, utm_medium = self._choice(N.LEAD_CAMPAIGNS)
            kr = "웹" in campaign or "Korea" in campaign or self._random() < 0.05
            fam, giv, fam_r, giv_r, fam_s, giv_s = self._person(kr)
            status = pick_status()
            existing = self._choice(self.companies) if self.companies else None
            if existing and (status == "converted" or self._random() < 0.15):
                company_name = existing.name
            elif kr:
                stem, _s = self._choice(N.KR_COMPANY_STEMS)
                company_name = f"주식회사 {stem}{self._choice(['랩', '테크', '솔루션'])}"
            else:
                stem, _r, _s = self._choice(N.JP_COMPANY_STEMS)
                company_name = f"株式会社{stem}{self._choice(['ラボ', 'ソリューションズ', '工業'])}"
            if kr:
                prefecture = self._pick_kr_pref()
                region = "kr"
            else:
                prefecture = self._pick_jp_pref()
                region = "kansai" if prefecture in N.KANSAI else "east"
            owner_id, team_id = self._owner(region)
            created = self._past(540, 0)
            converted_company_id = existing.id if existing is not None else None
            converted = status == "converted" and converted_company_id is not None
            contact_id = None
            if converted and converted_company_id is not None:
                candidates: list[int | None] = [
                    *self.contacts_by_company.get(converted_company_id, [])
                ] or [None]
                contact_id = self._choice(candidates)
            mail_domain = self._choice(["gmail.com", "example.co.jp", "example.com"])
            phone = self._mobile(kr) if self._random() < 0.7 else ""
            next_action, next_due = self._next_action(
                kr, 0.3 if status in ("new", "working") else 0
            )
            row = {
                "id": pk,
                "family_name": fam,
                "given_name": giv,
                "family_name_reading": "" if kr else fam_r,
                "given_name_reading": "" if kr else giv_r,
                "company_name": company_name,
                "corporate_number": "",
                "title": self._choice(
                    ["", "部長", "課長", "担当"] if not kr else ["", "과장", "팀장"]
                ),
                "department": self._choice(N.KR_DEPARTMENTS if kr else N.JP_DEPARTMENTS),
                "email": f"{giv_s}.{fam_s}{self._randint(1, 999)}@{mail_domain}",
                "phone": phone,
                "prefecture": prefecture,
                "channel": channel,
                "campaign": campaign,
                "utm_source": utm_source,
                "utm_medium": utm_medium,
                "utm_campaign": f"{created:%Y%m}_{channel}" if utm_source else "",
                "interest": self._choice(N.LEAD_INTERESTS),
                "status": status if (status != "converted" or converted) else "qualified",
                "converted_at": created + datetime.timedelta(days=self._randint(3, 40))
                if converted
                else None,
                "converted_company_id": converted_company_id if converted else None,
                "converted_contact_id": contact_id,
                "converted_by_id": owner_id if converted else None,
                "owner_id": owner_id,
                "team_id": team_id,
                "version": 1,
                "created_at": created,
                "updated_at": created,
                "custom_field_data": {},
                "next_action": next_action,
                "next_action_due": next_due,
            }
            if row["converted_at"] and row["converted_at"] > self.now:
                row["converted_at"] = self.now
            row["search_index"] = lead_search_index(row)
            out[Lead].append(row)
            out[LeadTag].extend(self._tags(LeadTag, "lead_id", pk, 0.05))
            self.lead_refs.append((pk, owner_id, team_id, kr))
            if len(out[Lead]) >= batch:
                yield out
                out = self._empty_batch(Lead, LeadTag)()
        if out[Lead]:
            yield out

    # Activities --------------------------------------------------------------------

    def activity_batches(self, count: int, first_id: int, batch: int = 50_000) -> Iterator[Batch]:
        """Calls, meetings, visits, e-mails, notes and tasks over the last 18 months."""
        rng = self.rng
        rand, choice, randint, sample = self._random, self._choice, self._randint, self._sample
        kinds, kind_w = self._kinds, self._kind_w
        contacts, companies, leads = self.contacts, self.companies, self.lead_refs
        owner_team = self._owner_team
        today = self.today
        empty = self._empty_batch(Activity, ActivityParticipant, ActivityParticipantUser)
        out = empty()
        # Kinds are drawn in blocks: random.choices is much faster per call
        # for many values.
        kind_pool: list[str] = []
        for i in range(count):
            pk = first_id + i
            if not kind_pool:
                kind_pool = rng.choices(kinds, kind_w, k=4096)
            kind = kind_pool.pop()
            about = rand()
            contact_id = company_id = lead_id = None
            if about < 0.8 and contacts:
                c = choice(contacts)
                contact_id, company_id, owner_id, team_id, kr = (
                    c.id,
                    c.company_id,
                    c.owner_id,
                    c.team_id,
                    c.kr,
                )
            elif about < 0.95 and companies:
                co = choice(companies)
                company_id, owner_id, team_id, kr = co.id, co.owner_id, co.team_id, co.kr
            elif leads:
                lead_id, owner_id, team_id, kr = choice(leads)
            else:
                owner_id, team_id = self._owner("east")
                kr = False
            if rand() < 0.1:
                # A colleague from the same team logged it.
                seat_owner = choice(self._seats["kr" if kr else "east"])
                owner_id = choice(seat_owner.owner_ids)
                team_id = owner_team[owner_id]
            if kind == "task" and contact_id is None and company_id is None and rand() < 0.5:
                lead_id = None  # a task of one's own
            subjects = (N.KR_SUBJECTS if kr else N.JP_SUBJECTS)[kind]
            subject = choice(subjects).format(p=choice(N.KR_PRODUCTS if kr else N.JP_PRODUCTS))
            sentences = N.KR_SENTENCES if kr else N.JP_SENTENCES
            if kind == "email" or rand() < 0.3:
                body = choice(sentences)
            else:
                first, second = sample(sentences, 2)
                body = first + (" " if kr else "") + second
            occurred = self._past(548)
            due_date = done_at = assignee_id = None
            duration = None
            if kind == "task":
                assignee_id = owner_id
                due_date = occurred.date() + datetime.timedelta(days=randint(1, 21))
                if due_date < today:
                    if rand() < 0.8:
                        done_at = min(
                            occurred + datetime.timedelta(days=randint(1, 20), hours=randint(0, 8)),
                            self.now,
                        )
                elif rand() < 0.1:
                    done_at = self.now
            elif kind in ("call", "meeting", "visit"):
                duration = choice([5, 10, 15, 30] if kind == "call" else [30, 60, 60, 90, 120])
            row = {
                "id": pk,
                "kind": kind,
                "subject": subject,
                "body": body,
                "occurred_at": occurred,
                "duration_minutes": duration,
                "company_id": company_id,
                "contact_id": contact_id,
                "lead_id": lead_id,
                "assignee_id": assignee_id,
                "due_date": due_date,
                "done_at": done_at,
                "owner_id": owner_id,
                "team_id": team_id,
                "version": 1,
                "created_at": occurred,
                "updated_at": done_at or occurred,
                "custom_field_data": {},
            }
            row["search_index"] = activity_search_index(row)
            out[Activity].append(row)
            if kind in ("meeting", "visit") and company_id is not None:
                people = self.contacts_by_company.get(company_id, ())
                if people:
                    for contact in sample(people, min(len(people), randint(1, 3))):
                        out[ActivityParticipant].append({"activity_id": pk, "contact_id": contact})
                out[ActivityParticipantUser].append({"activity_id": pk, "user_id": owner_id})
            if len(out[Activity]) >= batch:
                yield out
                out = empty()
        if out[Activity]:
            yield out


# Writing with the ORM --------------------------------------------------------------------


class keep_timestamps:
    """Let ``bulk_create`` keep the generated ``created_at``/``updated_at``."""

    def __init__(self, *model_classes: type[models.Model]):
        self.fields = [
            f
            for m in model_classes
            for f in m._meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]

    def __enter__(self):
        self.saved = [(f, f.auto_now, f.auto_now_add) for f in self.fields]
        for f in self.fields:
            f.auto_now = f.auto_now_add = False

    def __exit__(self, *exc):
        for f, auto_now, auto_now_add in self.saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def write_with_orm(batch: Batch, counts: dict[str, int] | None = None) -> None:
    """Write a batch with ``bulk_create``."""
    with keep_timestamps(*batch):
        for model, rows in batch.items():
            if not rows:
                continue
            model._default_manager.bulk_create((model(**row) for row in rows), batch_size=2000)
            if counts is not None:
                key = model._meta.db_table
                counts[key] = counts.get(key, 0) + len(rows)


def reset_sequences(model_classes) -> None:
    """After writing explicit ids, move PostgreSQL's sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_classes)):
            cursor.execute(sql)


@dataclass
class DemoSize:
    companies: int = 270
    contacts: int = 800
    leads: int = 300
    activities: int = 4000
    deals: int = 320


def load_demo(*, password: str, seed: int = 2024, size: DemoSize | None = None) -> dict[str, int]:
    """Create the demo organisation and its customers; returns rows per table."""
    size = size or DemoSize()
    counts: dict[str, int] = {}
    with transaction.atomic():
        create_reference_data()
        org = create_demo_org(password)
        tag_ids = list(Tag.objects.filter(name__in=DEMO_TAGS).values_list("id", flat=True))
        gen = Generator(org, seed=seed, tag_ids=sorted(tag_ids), custom=CustomValues())
        ids = first_ids()
        for batch in gen.company_batches(size.companies, ids[Company]):
            write_with_orm(batch, counts)
        for batch in gen.contact_batches(size.contacts, ids[Contact]):
            write_with_orm(batch, counts)
        for batch in gen.lead_batches(size.leads, ids[Lead]):
            write_with_orm(batch, counts)
        for batch in gen.activity_batches(size.activities, ids[Activity]):
            write_with_orm(batch, counts)
        reset_sequences(ID_TABLES)
        counts["deals"] = create_demo_deals(count=size.deals, seed=seed)
        counts["targets"] = create_demo_targets()
        start_demo_lead_slas(seed=seed)
        from kizuna.analytics import summary

        summary.rebuild()
    counts["users"] = len(org.users)
    return counts


def delete_demo() -> None:
    """Delete every customer record and the demo organisation."""
    from django.db import connection

    tables = [Activity.tags.through, *reversed(TABLE_ORDER)]
    # Deals refer to companies and activities to deals: they go between the two.
    at = tables.index(Activity) + 1
    tables[at:at] = [DealContact, StageChange, Deal.tags.through, Deal]
    with transaction.atomic(), connection.cursor() as cursor:
        # One DELETE per table: companies refer to their parents, which the
        # ORM's delete would refuse (PROTECT) row by row.
        for model in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        from kizuna.analytics import summary

        summary.rebuild()
        User.objects.filter(username__in=DEMO_USERNAMES).delete()
        roles = Role.objects.filter(name__in=DEMO_ROLES)
        roles.update(parent=None)
        roles.delete()
        Team.objects.filter(name__in=DEMO_TEAMS).delete()
