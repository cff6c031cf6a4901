"""Matching incoming rows against the records already in the database.

    matcher = Matcher.load("contact", user=importer)
    for row, found in zip(rows, matcher.match(rows)):
        if found and found.band == Band.MERGE: ...

``load`` reads only the columns matching needs, in one pass per table, and
builds an in-memory blocking index (hashes of e-mail, phone, name, name +
company, reading …) that points at the records. ``match`` prepares an
incoming row, looks its keys up, and scores only the records it shares a key
with, so it is linear in the rows. A record is fully prepared (normalised
through the engine's comparators) only when it first becomes a candidate.

The weights are the comparators' priors (see ``kizuna.dedup.model``), not
fitted by EM: a database is mostly free of duplicates, a single typed row
has nothing to learn from, and the import, the hint on the create forms and
the full scan must give one pair the same score.
"""

import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.core import access, text
from kizuna.core.models import OrgSettings
from kizuna.dedup.comparators import MISSING, SharedPhone
from kizuna.dedup.engine import Band, Engine, Evidence, FieldSpec, Rule, Thresholds, _probability
from kizuna.dedup.model import Model, fit

ENTITY_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "contact": (
        ("full_name", "full_name"),
        ("reading", "reading"),
        ("company", "company"),
        ("email", "email"),
        ("phone", "phone"),
    ),
    "company": (
        ("name", "company"),
        ("name_reading", "reading"),
        ("corporate_number", "identifier"),
        ("domain", "text"),
        ("phone", "phone"),
        ("postal_code", "postal_code"),
        ("address", "address"),
    ),
}
ENTITY_FIELDS["lead"] = ENTITY_FIELDS["contact"]
MULTI_VALUED = frozenset({"email", "phone"})
# A key that more records share than this finds nothing useful.
MAX_BLOCK = 40
# A name alone (no company, e-mail or phone with it) is weak evidence: a
# common name finds too many people to be worth scoring.
MAX_NAME_BLOCK = 8
CHUNK = 5000
HINT_LIMIT = 50
_SPLIT_RE = re.compile(r"[;,、，\s]+")
_PHONE_SPLIT_RE = re.compile(r"[;,、，/／]+")

FIELD_LABELS = {
    "full_name": gettext_lazy("name"),
    "reading": gettext_lazy("reading"),
    "company": gettext_lazy("company"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
    "name": gettext_lazy("name"),
    "name_reading": gettext_lazy("reading"),
    "corporate_number": gettext_lazy("corporate number"),
    "domain": gettext_lazy("domain"),
    "postal_code": gettext_lazy("postal code"),
    "address": gettext_lazy("address"),
}
LEVEL_LABELS = {
    "exact": gettext_lazy("%(field)s same"),
    "sounds_alike": gettext_lazy("%(field)s sounds alike"),
    "similar": gettext_lazy("%(field)s similar"),
    "weak": gettext_lazy("%(field)s somewhat alike"),
    "close": gettext_lazy("%(field)s nearly the same"),
    "same_domain": gettext_lazy("%(field)s same domain"),
    "same_local": gettext_lazy("%(field)s same before the @"),
    "shared": gettext_lazy("%(field)s shared (team address or main line)"),
    "different": gettext_lazy("%(field)s different"),
}
RULE_LABELS = {
    Rule.DIFFERENT_PERSON: gettext_lazy("different person's name"),
    Rule.DIFFERENT_COMPANY: gettext_lazy("different company"),
    Rule.DIFFERENT_IDENTIFIER: gettext_lazy("different corporate number"),
}


@dataclass(frozen=True)
class RowMatch:
    """The best existing record for an incoming row, and why."""

    record_id: int
    band: Band
    score: float
    explanation: str  # in the active language
    evidence: list  # engine.Evidence per field
    rules: tuple[Rule, ...] = ()


def explain(evidence: Iterable[Evidence], rules: Iterable[str] = ()) -> str:
    """ "e-mail same, name sounds alike, company same" in the active language."""
    parts = []
    for e in sorted(evidence, key=lambda e: -abs(e.weight)):
        if e.level == "missing" or (e.weight == 0 and e.level != "shared"):
            continue
        label = FIELD_LABELS.get(e.column, e.column)
        template = LEVEL_LABELS.get(e.level, LEVEL_LABELS["different"])
        parts.append(str(template) % {"field": label})
    parts += [str(RULE_LABELS.get(Rule(r), r)) for r in rules if r in RULE_LABELS]
    return _(", ").join(parts)


def evidence_json(evidence: Iterable[Evidence]) -> list[dict[str, Any]]:
    return [
        {
            "column": e.column,
            "kind": e.kind,
            "level": e.level,
            "weight": round(e.weight, 2),
            "a": e.a,
            "b": e.b,
        }
        for e in evidence
    ]


def evidence_from_json(data: Iterable[Mapping[str, Any]]) -> list[Evidence]:
    return [
        Evidence(
            column=d["column"],
            kind=d["kind"],
            level=d["level"],
            weight=d["weight"],
            a=d.get("a", ""),
            b=d.get("b", ""),
        )
        for d in data
    ]


def _split_name(whole: str) -> tuple[str, str]:
    parts = text.normalize(whole).split(" ", 1) if whole else []
    if not parts:
        return "", ""
    if len(parts) == 1:
        return whole.strip(), ""
    return parts[0], parts[1]


def canonical_person(row: Mapping[str, Any]) -> tuple[str, str, str, str, str, list, list]:
    """(family, given, family reading, given reading, company, emails, phones) of a row."""
    family = str(row.get("family_name") or "").strip()
    given = str(row.get("given_name") or "").strip()
    if not family and not given:
        family, given = _split_name(str(row.get("full_name") or ""))
    family_reading = str(row.get("family_name_reading") or "").strip()
    given_reading = str(row.get("given_name_reading") or "").strip()
    if not family_reading and not given_reading:
        family_reading, given_reading = _split_name(str(row.get("reading") or ""))
    emails = [e for e in _SPLIT_RE.split(str(row.get("email") or "")) if "@" in e]
    phones = [p.strip() for p in _PHONE_SPLIT_RE.split(str(row.get("phone") or "")) if p.strip()]
    return (
        family,
        given,
        family_reading,
        given_reading,
        str(row.get("company") or "").strip(),
        emails,
        phones,
    )


def canonical_company(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(row.get(key) or "").strip()
        for key in (
            "name",
            "name_reading",
            "corporate_number",
            "domain",
            "phone",
            "postal_code",
            "address",
        )
    )


@contextmanager
def _no_gc():
    """Pause the cycle collector while building or probing the index.

    Loading half a million records allocates millions of small tuples and
    lists without a single reference cycle; the collector would walk the
    whole growing heap again and again (a third of the load time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _email_key(raw: str) -> str:
    """``text.normalize_email`` with a short way for plain ASCII addresses.

    NFKC and casefold change nothing in ASCII beyond lower-casing, and most
    stored addresses are ASCII; a test compares the two.
    """
    if not raw.isascii() or "<" in raw or ">" in raw:
        return text.normalize_email(raw)
    local, at, domain = raw.strip().lower().rpartition("@")
    if not at or not local or "." not in domain:
        return ""
    if "+" in local:
        local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


class _Keys:
    """Cached per-part keys: family and given names repeat a great deal."""

    def __init__(self, region: str):
        self.region = region
        self._name: dict[str, str] = {}
        self._romaji: dict[str, str] = {}
        self._company: dict[str, str] = {}
        self._phone: dict[str, str] = {}

    def name(self, part: str) -> str:
        key = self._name.get(part)
        if key is None:
            key = self._name[part] = text.name_key(part)
        return key

    def romaji(self, part: str) -> str:
        key = self._romaji.get(part)
        if key is None:
            key = self._romaji[part] = text.romaji_key(part)
        return key

    def company(self, name: str) -> str:
        key = self._company.get(name)
        if key is None:
            key = self._company[name] = text.company_key(name)
        return key

    def phone(self, raw: str) -> str:
        if raw.startswith("+") and raw[1:].isdigit():
            return raw
        key = self._phone.get(raw)
        if key is None:
            key = self._phone[raw] = text.phone_key(raw, self.region)
        return key

    def person_romaji(self, family: str, given: str, family_r: str, given_r: str) -> str:
        """How the name sounds: from the reading, else from a kana/Latin name."""
        for a, b in ((family_r, given_r), (family, given)):
            if not (a or b):
                continue
            ra, rb = self.romaji(a) if a else "", self.romaji(b) if b else ""
            if (ra or not a) and (rb or not b):
                return ra + rb
        return ""


class Matcher:
    """Existing records of one entity, indexed for matching incoming rows."""

    def __init__(self, entity: str, *, region: str = "JP", thresholds: Thresholds | None = None):
        if entity not in ENTITY_FIELDS:
            raise ValueError(f"unknown entity {entity!r}")
        self.entity = entity
        self.person = entity != "company"
        self.region = region
        self.thresholds = thresholds or Thresholds()
        self.engine = Engine(
            [FieldSpec(*f) for f in ENTITY_FIELDS[entity]],
            entity=entity,
            region=region,
            thresholds=self.thresholds,
        )
        self.comparators = self.engine.comparators
        self.multi = [spec.kind in MULTI_VALUED for spec in self.engine.fields]
        self.model: Model = fit(self.comparators, _empty(), _empty())
        self._weights = [
            [self.model.fields[i].weight(level) for level in range(len(c.levels))]
            for i, c in enumerate(self.comparators)
        ]
        self._decisive = self.engine._decisive(self.model)
        kinds = [spec.kind for spec in self.engine.fields]
        self._name_pair = (
            kinds.index("full_name") if self.person else 0,
            kinds.index("reading") if "reading" in kinds else None,
        )
        self.keys = _Keys(region)
        self.ids: list[int] = []
        self.raw: list[tuple] = []
        self.index: dict[int, int | list[int]] = {}
        self.shared_phones: set[str] = set()
        self._prepared: dict[int, tuple] = {}
        self._interned: dict[str, str] = {}
        self._value_cache: dict[tuple[int, str], object] = {}
        self._extra_phones: list[str] = []

    # Loading ------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        entity: str,
        *,
        user=None,
        ids: Iterable[int] | None = None,
        queryset=None,
        region: str | None = None,
        phones: Iterable[str] = (),
    ) -> "Matcher":
        """Read the records of ``entity`` (those ``user`` may see, when given).

        ``ids`` or ``queryset`` narrow the records read (the hint reads a
        handful of candidates only); a narrowed load reads only the companies
        and main lines those records need, plus the main lines among
        ``phones`` (the incoming row's).
        """
        matcher = cls(entity, region=region or OrgSettings.get().default_region)
        matcher._extra_phones = [p for p in (matcher.keys.phone(n) for n in phones) if p]
        qs = queryset if queryset is not None else matcher.model_class().objects.all()
        if user is not None:
            qs = access.visible(qs, user)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        with _no_gc():
            if entity == "company":
                matcher._load_companies(qs)
            else:
                matcher._load_people(qs, restricted=user is not None or ids is not None)
        return matcher

    def model_class(self):
        from kizuna.customers.models import Company, Contact, Lead

        return {"company": Company, "contact": Contact, "lead": Lead}[self.entity]

    def _intern(self, value: str) -> str:
        return self._interned.setdefault(value, value)

    def _load_people(self, qs, *, restricted: bool) -> None:
        """One pass over the records (company name and its stored key joined in).

        The per-record work is a handful of cached dict lookups: names and
        readings repeat, the company's key is the stored ``name_key``, stored
        phones are E.164 already and most stored e-mails need only lower-casing.
        """
        from kizuna.customers.models import Company, ContactEmail, ContactPhone

        contacts = self.entity == "contact"
        names = ("id", "family_name", "given_name", "family_name_reading", "given_name_reading")
        columns: tuple[str, ...]
        if contacts:
            columns = (*names, "company__name", "company__name_key")
        else:
            columns = (*names, "company_name", "email", "phone")
        emails: dict[int, list[str]] = defaultdict(list)
        phones: dict[int, list[str]] = defaultdict(list)
        if contacts:
            email_qs = ContactEmail.objects.order_by()
            phone_qs = ContactPhone.objects.order_by()
            if restricted:
                email_qs = email_qs.filter(contact_id__in=qs.values("pk"))
                phone_qs = phone_qs.filter(contact_id__in=qs.values("pk"))
            for contact_id, email in email_qs.values_list("contact_id", "email").iterator(
                chunk_size=CHUNK
            ):
                emails[contact_id].append(email)
            for contact_id, number in phone_qs.values_list("contact_id", "number").iterator(
                chunk_size=CHUNK
            ):
                phones[contact_id].append(number)
        intern = self._intern
        keys = self.keys
        index = self.index
        ids, raws = self.ids, self.raw
        nothing: tuple = ()
        # Phones are indexed after the pass, once the shared numbers are known.
        holders: dict[str, str] = {}
        shared: set[str] = set()
        phone_positions: list[tuple[str, int]] = []
        for values in qs.order_by().values_list(*columns).iterator(chunk_size=CHUNK):
            pk, family, given, family_r, given_r = values[:5]
            if contacts:
                company = values[5] or ""
                company_key = values[6] or (keys.company(company) if company else "")
                mails = tuple(emails.pop(pk, nothing))
                numbers = tuple(phones.pop(pk, nothing))
            else:
                company = values[5]
                company_key = keys.company(company) if company else ""
                mails = (values[6],) if values[6] else nothing
                numbers = (values[7],) if values[7] else nothing
            raw = (
                intern(family),
                intern(given),
                intern(family_r),
                intern(given_r),
                intern(company),
                mails,
                numbers,
            )
            pos = len(ids)
            ids.append(pk)
            raws.append(raw)
            name = keys.name(family) + keys.name(given)
            for key in self._person_keys(raw, company_key=company_key, name=name, phones=False):
                # ``_index_add`` inlined: this loop runs for every key of every
                # stored record, and the call cost shows in the import's load.
                hit = index.get(key)
                if hit is None:
                    index[key] = pos
                elif isinstance(hit, int):
                    if hit != pos:
                        index[key] = [hit, pos]
                elif len(hit) <= MAX_BLOCK and hit[-1] != pos:
                    hit.append(pos)
            for number in numbers:
                phone = keys.phone(number)
                if phone:
                    phone_positions.append((phone, pos))
                    if holders.setdefault(phone, name) != name:
                        shared.add(phone)
        # A company's main line, or a number people with different names give,
        # is no one's own number.
        line_qs = Company.objects.order_by().exclude(phone="")
        wanted = set(self._extra_phones) | {phone for phone, _pos in phone_positions}
        # A few numbers are looked up; for many, reading every main line is
        # cheaper than the query, and a database refuses a huge IN list.
        if restricted and len(wanted) <= CHUNK:
            line_qs = line_qs.filter(phone__in=wanted)
        for line in line_qs.values_list("phone", flat=True).iterator(chunk_size=CHUNK):
            shared.add(keys.phone(line))
        shared.discard("")
        self.shared_phones = shared
        for phone, pos in phone_positions:
            if phone not in shared:
                _index_add(index, abs(hash(("p", phone))), pos)

    def _person_keys(
        self,
        raw: tuple,
        *,
        company_key: str | None = None,
        name: str | None = None,
        phones: bool = True,
    ) -> list[int]:
        family, given, family_r, given_r, company, mails, numbers = raw
        keys = self.keys
        out = []
        if name is None:
            name = keys.name(family) + keys.name(given)
        romaji = keys.person_romaji(family, given, family_r, given_r)
        if company_key is None:
            company_key = keys.company(company) if company else ""
        if name:
            out.append(-abs(hash(("n", name))) - 1)
            if company_key:
                out.append(abs(hash(("nc", name, company_key))))
        if romaji and romaji != name:
            out.append(-abs(hash(("r", romaji))) - 1)
            if company_key:
                out.append(abs(hash(("rc", romaji, company_key))))
        for mail in mails:
            address = _email_key(mail)
            if address and not text.is_role_address(address):
                out.append(abs(hash(("e", address))))
        if phones:
            for number in numbers:
                phone = keys.phone(number)
                if phone and phone not in self.shared_phones:
                    out.append(abs(hash(("p", phone))))
        return out

    def _load_companies(self, qs) -> None:
        intern = self._intern
        columns = (
            "id",
            "name",
            "name_reading",
            "corporate_number",
            "domain",
            "phone",
            "postal_code",
            "prefecture",
            "city",
            "street",
            "building",
            "name_key",
        )
        index = self.index
        for values in qs.order_by().values_list(*columns).iterator(chunk_size=CHUNK):
            pk, name, reading, number, domain, phone, postal, pref, city, street, building = values[
                :11
            ]
            address = " ".join(p for p in (pref, city, street, building) if p)
            raw = (
                name,
                intern(reading),
                number,
                domain,
                phone,
                intern(postal),
                address,
            )
            pos = len(self.ids)
            self.ids.append(pk)
            self.raw.append(raw)
            for key in self._company_keys(raw, name_key=values[11]):
                _index_add(index, key, pos)

    def _company_keys(self, raw: tuple, *, name_key: str | None = None) -> list[int]:
        name, reading, number, domain, phone, _postal, _address = raw
        keys = self.keys
        out = []
        key = name_key if name_key is not None else keys.company(name)
        if key:
            out.append(abs(hash(("c", key))))
        if reading:
            romaji = keys.romaji(reading)
            if romaji:
                out.append(abs(hash(("cr", romaji))))
        if number:
            out.append(abs(hash(("i", text.name_key(number).upper()))))
        if domain:
            out.append(abs(hash(("d", domain.lower().removeprefix("www.")))))
        if phone:
            phone_key = keys.phone(phone)
            if phone_key:
                out.append(abs(hash(("p", phone_key))))
        return out

    # Preparing ----------------------------------------------------------------

    def _values(self, raw: tuple) -> list:
        """Raw values per engine field (tuples for e-mails and phones)."""
        if not self.person:
            return list(raw)
        family, given, family_r, given_r, company, mails, numbers = raw
        return [
            f"{family} {given}".strip(),
            f"{family_r} {given_r}".strip(),
            company,
            mails,
            numbers,
        ]

    def _prepare(self, raw: tuple, shared: set[str] | frozenset = frozenset()) -> tuple:
        region = self.region
        row: list = []
        cache = self._value_cache
        for i, (value, comparator) in enumerate(
            zip(self._values(raw), self.comparators, strict=True)
        ):
            kind = comparator.kind
            if self.multi[i]:
                prepared = []
                p: Any
                for v in value if isinstance(value, tuple | list) else (value,):
                    if not v:
                        continue
                    if kind == "phone":
                        # Stored numbers are E.164 already; parse the others once.
                        p = self.keys.phone(str(v)) or None
                    else:
                        p = comparator.prepare(str(v), region)
                    if p is None:
                        continue
                    if kind == "phone" and self.person and (p in self.shared_phones or p in shared):
                        p = SharedPhone(p)
                    prepared.append(p)
                row.append(tuple(prepared) or None)
            elif not value:
                row.append(None)
            elif kind in ("full_name", "company", "reading", "postal_code"):
                # Many records share these: prepare each value once.
                key = (i, value)
                p = cache.get(key, cache)
                if p is cache:
                    p = cache[key] = comparator.prepare(str(value), region)
                row.append(p)
            else:
                row.append(comparator.prepare(str(value), region))
        if self.person:
            self.engine._add_readings(row)
        return tuple(row)

    def _existing(self, pos: int) -> tuple:
        prepared = self._prepared.get(pos)
        if prepared is None:
            prepared = self._prepared[pos] = self._prepare(self.raw[pos])
        return prepared

    # Scoring ------------------------------------------------------------------

    def _levels(self, a: tuple, b: tuple) -> tuple[int, ...]:
        levels = []
        for i, comparator in enumerate(self.comparators):
            va, vb = a[i], b[i]
            if va is None or vb is None:
                levels.append(MISSING)
            elif self.multi[i]:
                levels.append(max(comparator.compare(x, y) for x in va for y in vb))
            else:
                levels.append(comparator.compare(va, vb))
        return tuple(levels)

    def _score(
        self, a: tuple, b: tuple
    ) -> tuple[float, float, Band, tuple[Rule, ...], tuple, list[float]]:
        pattern = self._levels(a, b)
        weights = [self._weights[i][level] for i, level in enumerate(pattern)]
        name, reading = self._name_pair
        if name is not None and reading is not None and weights[name] > 0 < weights[reading]:
            # A reading is how the name sounds: when both agree they are one
            # piece of evidence, not two.
            weights[reading] = 0.0
        weight = self.model.prior_weight + sum(weights)
        probability = _probability(weight)
        band = self.thresholds.band(probability)
        rules = self.engine._rules(pattern, self._decisive)
        if rules and band == Band.MERGE:
            band = Band.REVIEW
        return probability, weight, band, rules, pattern, weights

    def _evidence(self, a: tuple, b: tuple, pattern: tuple, weights: list) -> list[Evidence]:
        out = []
        for i, spec in enumerate(self.engine.fields):
            level = pattern[i]
            out.append(
                Evidence(
                    column=spec.column,
                    kind=spec.kind,
                    level=self.comparators[i].levels[level],
                    weight=weights[i],
                    a=_show(a[i]),
                    b=_show(b[i]),
                )
            )
        return out

    def _row_match(self, pos: int, a: tuple, b: tuple, scored) -> RowMatch:
        probability, _weight, band, rules, pattern, weights = scored
        evidence = self._evidence(a, b, pattern, weights)
        return RowMatch(
            record_id=self.ids[pos],
            band=band,
            score=probability,
            explanation=explain(evidence, rules),
            evidence=evidence,
            rules=rules,
        )

    # Matching -----------------------------------------------------------------

    def _raw_row(self, row: Mapping[str, Any]) -> tuple:
        if not self.person:
            return canonical_company(row)
        family, given, family_r, given_r, company, emails, phones = canonical_person(row)
        return (family, given, family_r, given_r, company, tuple(emails), tuple(phones))

    def _keys_of(self, raw: tuple) -> list[int]:
        return self._person_keys(raw) if self.person else self._company_keys(raw)

    def _candidates(self, keys: Iterable[int], exclude: int | None = None) -> set[int]:
        found: set[int] = set()
        index = self.index
        for key in keys:
            hit = index.get(key)
            if hit is None:
                continue
            if isinstance(hit, int):
                found.add(hit)
            elif len(hit) <= (MAX_NAME_BLOCK if key < 0 else MAX_BLOCK):
                found.update(hit)
        if exclude is not None:
            found.discard(exclude)
        return found

    def _batch_shared_phones(self, raws: Sequence[tuple]) -> set[str]:
        """Numbers that rows with different names in the same batch give."""
        if not self.person:
            return set()
        keys = self.keys
        holder: dict[str, str] = {}
        shared = set()
        for family, given, _fr, _gr, _company, _mails, numbers in raws:
            name = keys.name(family) + keys.name(given)
            for number in numbers:
                phone = keys.phone(number)
                if phone and holder.setdefault(phone, name) != name:
                    shared.add(phone)
        return shared

    def matches(self, row: Mapping[str, Any], *, shared: set[str] | None = None) -> list[RowMatch]:
        """Every existing record that the row may be, best first (ignore band left out)."""
        raw = self._raw_row(row)
        found = self._candidates(self._keys_of(raw))
        if not found:
            return []
        a = self._prepare(raw, shared or set())
        scored = []
        for pos in found:
            b = self._existing(pos)
            result = self._score(a, b)
            if result[2] != Band.IGNORE:
                scored.append((result[1], pos, b, result))
        scored.sort(key=lambda item: (-item[0], self.ids[item[1]]))
        return [self._row_match(pos, a, b, result) for _w, pos, b, result in scored]

    def match(self, rows: Sequence[Mapping[str, Any]]) -> list[RowMatch | None]:
        """The best existing record for each row (merge or review band), or None."""
        with _no_gc():
            return self._match(rows)

    def _match(self, rows: Sequence[Mapping[str, Any]]) -> list[RowMatch | None]:
        raws = [self._raw_row(row) for row in rows]
        shared = self._batch_shared_phones(raws)
        out: list[RowMatch | None] = []
        for raw in raws:
            found = self._candidates(self._keys_of(raw))
            if not found:
                out.append(None)
                continue
            a = self._prepare(raw, shared)
            best = None
            for pos in found:
                b = self._existing(pos)
                result = self._score(a, b)
                if result[2] == Band.IGNORE:
                    continue
                if (
                    best is None
                    or result[1] > best[0]
                    or (result[1] == best[0] and self.ids[pos] < self.ids[best[1]])
                ):
                    best = (result[1], pos, b, result)
            out.append(None if best is None else self._row_match(best[1], a, best[2], best[3]))
        return out

    # Scanning -----------------------------------------------------------------

    def scan(
        self,
        *,
        progress: Callable[[int, int], bool | None] | None = None,
        every: int = 20_000,
    ) -> Iterator[tuple[int, int, RowMatch]]:
        """Every pair of loaded records in the merge or review band: (a_id, b_id, match).

        ``progress(done, total)`` is called every ``every`` records; when it
        returns False the scan stops.
        """
        total = len(self.ids)
        for pos in range(total):
            if progress is not None and pos % every == 0 and progress(pos, total) is False:
                return
            found = self._candidates(self._keys_of(self.raw[pos]), exclude=pos)
            later = [other for other in found if other > pos]
            if not later:
                continue
            a = self._existing(pos)
            for other in sorted(later):
                b = self._existing(other)
                result = self._score(a, b)
                if result[2] == Band.IGNORE:
                    continue
                match = self._row_match(other, a, b, result)
                yield self.ids[pos], self.ids[other], match
            # Free what this record no longer needs.
            self._prepared.pop(pos, None)
        if progress is not None:
            progress(total, total)


def _index_add(index: dict, key: int, pos: int) -> None:
    hit = index.get(key)
    if hit is None:
        index[key] = pos
    elif isinstance(hit, int):
        if hit != pos:
            index[key] = [hit, pos]
    elif len(hit) <= MAX_BLOCK and hit[-1] != pos:
        hit.append(pos)


def _empty():
    from collections import Counter

    return Counter()


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return str(value)


def record_row(entity: str, record) -> dict[str, str]:
    """A saved record as the lookup's canonical row (for checking a new record)."""
    if entity == "company":
        address = " ".join(
            p for p in (record.prefecture, record.city, record.street, record.building) if p
        )
        return {
            "name": record.name,
            "name_reading": record.name_reading,
            "corporate_number": record.corporate_number or "",
            "domain": record.domain,
            "phone": record.phone,
            "postal_code": record.postal_code,
            "address": address,
        }
    row = {
        "family_name": record.family_name,
        "given_name": record.given_name,
        "family_name_reading": record.family_name_reading,
        "given_name_reading": record.given_name_reading,
    }
    if entity == "lead":
        return {**row, "company": record.company_name, "email": record.email, "phone": record.phone}
    return {
        **row,
        "company": record.company.name if record.company_id else "",
        "email": ";".join(e.email for e in record.emails.all()),
        "phone": ";".join(p.number for p in record.phones.all()),
    }


def match_one(entity: str, row: Mapping[str, Any], *, user=None) -> list[RowMatch]:
    """The records ``row`` may be, best first; for the "this looks like …" hint.

    Only the few records that share an e-mail, a phone or a name with the
    row are read, not the whole table.
    """
    region = OrgSettings.get().default_region
    matcher = Matcher(entity, region=region)
    raw = matcher._raw_row(row)
    qs = _hint_queryset(matcher, raw)
    if qs is None:
        return []
    phones = raw[6] if matcher.person else (raw[4],) if raw[4] else ()
    loaded = Matcher.load(entity, user=user, queryset=qs, region=region, phones=phones)
    return loaded.matches(row)


def _hint_queryset(matcher: Matcher, raw: tuple):
    """The records that share something selective with the row: a few small queries."""
    from kizuna.core.search import filter_search

    model = matcher.model_class()
    keys = matcher.keys
    base = model.objects.order_by()
    queries = []
    if matcher.person:
        family, given, family_r, given_r, _company, mails, numbers = raw
        emails = [text.normalize_email(m) for m in mails]
        emails = [e for e in emails if e and not text.is_role_address(e)]
        phones = [p for p in (keys.phone(n) for n in numbers) if p]
        email_q = Q()
        for e in emails:
            email_q |= Q(
                **{"emails__email__iexact" if matcher.entity == "contact" else "email__iexact": e}
            )
        if email_q:
            queries.append(base.filter(email_q))
        if phones:
            lookup = "phones__number__in" if matcher.entity == "contact" else "phone__in"
            queries.append(base.filter(**{lookup: phones}))
        for a, b in ((family, given), (family_r, given_r)):
            whole = text.name_key(a + b)
            if len(whole) >= 2:
                queries.append(filter_search(base, whole))
    else:
        name, reading, number, domain, phone, _postal, _address = raw
        if name and (key := keys.company(name)):
            queries.append(base.filter(name_key=key))
        if number:
            queries.append(base.filter(corporate_number=text.name_key(number).upper()))
        if domain:
            queries.append(base.filter(domain=domain.lower().removeprefix("www.")))
        if phone and (phone_key := keys.phone(phone)):
            queries.append(base.filter(phone=phone_key))
        if reading and len(text.name_key(reading)) >= 2:
            queries.append(filter_search(base, text.name_key(reading)))
    ids: set[int] = set()
    for qs in queries:
        ids.update(qs.values_list("pk", flat=True)[:HINT_LIMIT])
    if not ids:
        return None
    return model.objects.filter(pk__in=ids)
