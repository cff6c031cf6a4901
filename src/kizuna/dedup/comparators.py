"""Per-kind preparation and comparison of field values.

A comparator turns a raw cell into a prepared value once per record (all the
normalisation of ``kizuna.core.text`` happens here) and compares two prepared
values into a *level*: an index into ``levels``, where 0 always means that a
value is missing on one side and higher levels mean closer agreement. The
model (``kizuna.dedup.model``) learns how much each level of each field says.
"""

from dataclasses import dataclass, field

from rapidfuzz.distance import OSA, Indel, JaroWinkler

from kizuna.core import text

MISSING = 0


@dataclass(frozen=True, slots=True)
class Name:
    """A prepared name-like value: its exact key and keys that sound the same."""

    key: str
    alts: frozenset[str] = field(default_factory=frozenset)
    # Written in kana or Latin letters (so it can be romanised), not kanji/hangul.
    phonetic: bool = False

    def sounds(self) -> list[str]:
        """Romanised forms: of the name itself or of a reading given with it."""
        return [alt for alt in self.alts if alt.isascii() and "|" not in alt]

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class Email:
    address: str
    local: str
    domain: str
    role: bool
    free: bool

    def __str__(self) -> str:
        return self.address


class Comparator:
    kind = ""
    levels: tuple[str, ...] = ("missing", "different", "exact")
    # Levels that never count as evidence, whatever the data says.
    neutral: frozenset[int] = frozenset()
    # Prior m and u probabilities of levels 1.. (used when the data is small).
    prior_m: tuple[float, ...] = (0.05, 0.95)
    prior_u: tuple[float, ...] = (0.99, 0.01)
    # Whether exact agreement is weighted by how common the value is.
    term_frequency = False
    # Whether the value alone is selective enough to be a blocking key.
    blocks_alone = False

    def prepare(self, raw: str, region: str) -> object | None:
        value = text.normalize(raw)
        return value or None

    def compare(self, a, b) -> int:
        return 2 if a == b else 1

    def block_values(self, value) -> tuple[str, ...]:
        return (str(value),)

    def exact_key(self, value) -> str:
        return str(value)


class NameComparator(Comparator):
    """Given, family and full names, readings and free text."""

    levels: tuple[str, ...] = ("missing", "different", "weak", "similar", "sounds_alike", "exact")
    prior_m: tuple[float, ...] = (0.01, 0.04, 0.08, 0.07, 0.80)
    prior_u: tuple[float, ...] = (0.95, 0.03, 0.012, 0.003, 0.005)
    term_frequency = True
    similar = 0.92
    weak = 0.8

    def prepare(self, raw: str, region: str) -> Name | None:
        key = text.name_key(raw)
        if not key:
            return None
        alts = {romaji} if (romaji := text.romaji_key(raw)) else set()
        words = text.normalize(raw).split()
        if len(words) > 1:
            # 太郎 佐藤 and 佐藤 太郎: the same words in another order.
            alts.add("|".join(sorted(text.name_key(w) for w in words)))
        return Name(key, frozenset(alts), phonetic=bool(romaji))

    def compare(self, a: Name, b: Name) -> int:
        if a.key == b.key:
            return 5
        if a.alts and not a.alts.isdisjoint(b.alts):
            return 4
        if a.phonetic == b.phonetic:
            similarity = JaroWinkler.normalized_similarity(a.key, b.key)
        else:
            # 松本 恵 and ﾏﾂﾓﾄ ﾒｸﾞﾐ can only be compared through a reading.
            sounds_a, sounds_b = a.sounds(), b.sounds()
            if not sounds_a or not sounds_b:
                return MISSING
            similarity = max(
                JaroWinkler.normalized_similarity(x, y) for x in sounds_a for y in sounds_b
            )
        if similarity >= self.similar:
            return 3
        return 2 if similarity >= self.weak else 1

    def block_values(self, value: Name) -> tuple[str, ...]:
        return (value.key, *value.alts)

    def exact_key(self, value: Name) -> str:
        return value.key


class ReadingComparator(NameComparator):
    kind = "reading"

    def prepare(self, raw: str, region: str) -> Name | None:
        key = text.name_key(raw)
        if not key:
            return None
        romaji = text.romaji_key(raw)
        return Name(key, frozenset({romaji} if romaji else ()), phonetic=bool(romaji))


class TextComparator(NameComparator):
    kind = "text"
    levels = ("missing", "different", "similar", "exact")
    prior_m = (0.1, 0.1, 0.8)
    prior_u = (0.9, 0.05, 0.05)

    def prepare(self, raw: str, region: str) -> Name | None:
        key = text.name_key(raw)
        return Name(key) if key else None

    def compare(self, a: Name, b: Name) -> int:
        if a.key == b.key:
            return 3
        return 2 if Indel.normalized_similarity(a.key, b.key) >= 0.8 else 1

    def block_values(self, value: Name) -> tuple[str, ...]:
        return (value.key,)


class AddressComparator(TextComparator):
    kind = "address"
    prior_m = (0.15, 0.15, 0.7)
    prior_u = (0.98, 0.01, 0.01)

    def prepare(self, raw: str, region: str) -> Name | None:
        key = text.normalize_address(raw)
        return Name(key) if key else None


class CompanyComparator(TextComparator):
    kind = "company"
    prior_m = (0.08, 0.12, 0.8)
    prior_u = (0.97, 0.01, 0.02)

    def prepare(self, raw: str, region: str) -> Name | None:
        key = text.company_key(raw)
        return Name(key) if key else None

    def compare(self, a: Name, b: Name) -> int:
        if a.key == b.key:
            return 3
        shorter, longer = sorted((a.key, b.key), key=len)
        if len(shorter) >= 3 and shorter in longer:
            return 2
        return 2 if JaroWinkler.normalized_similarity(a.key, b.key) >= 0.92 else 1


class EmailComparator(Comparator):
    kind = "email"
    levels = ("missing", "different", "same_domain", "same_local", "shared", "exact")
    neutral = frozenset({4})
    prior_m = (0.2, 0.05, 0.05, 0.05, 0.65)
    prior_u = (0.985, 0.01, 0.0005, 0.004, 0.0005)
    blocks_alone = True

    def prepare(self, raw: str, region: str) -> Email | None:
        address = text.normalize_email(raw)
        if not address:
            return None
        local, _at, domain = address.rpartition("@")
        return Email(
            address,
            local,
            domain,
            text.is_role_address(address),
            text.is_free_mail_domain(domain),
        )

    def compare(self, a: Email, b: Email) -> int:
        if a.address == b.address:
            # info@ and 営業@ belong to a team: they say nothing about a person.
            return 4 if a.role else 5
        if a.local == b.local and not a.role and len(a.local) > 3:
            return 3
        if a.domain == b.domain and not a.free:
            return 2
        return 1

    def block_values(self, value: Email) -> tuple[str, ...]:
        return () if value.role else (value.address,)

    def exact_key(self, value: Email) -> str:
        return value.address


class PhoneComparator(Comparator):
    """Phones in E.164; a number shared by several people is marked by the engine."""

    kind = "phone"
    levels = ("missing", "different", "shared", "exact")
    neutral = frozenset({2})
    prior_m = (0.3, 0.05, 0.65)
    prior_u = (0.995, 0.004, 0.001)
    blocks_alone = True

    def prepare(self, raw: str, region: str) -> str | None:
        return text.phone_key(raw, region) or None

    def compare(self, a: str, b: str) -> int:
        return 3 if a == b else 1


class SharedPhone(str):
    """A phone number that several different people in the data give."""


class SharedPhoneComparator(PhoneComparator):
    def block_values(self, value: str) -> tuple[str, ...]:
        return () if isinstance(value, SharedPhone) else (value,)

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 2 if isinstance(a, SharedPhone) else 3
        return 1


class DateComparator(Comparator):
    kind = "date"
    levels = ("missing", "different", "close", "exact")
    prior_m = (0.05, 0.1, 0.85)
    prior_u = (0.99, 0.009, 0.001)
    blocks_alone = True

    def prepare(self, raw: str, region: str) -> str | None:
        return text.normalize_date(raw) or None

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 3
        if OSA.distance(a, b) <= 1 or (a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]):
            return 2
        return 1


class IdentifierComparator(Comparator):
    """法人番号, customer numbers, national ids: exact, one typo away, or different."""

    kind = "identifier"
    levels = ("missing", "different", "close", "exact")
    prior_m = (0.01, 0.04, 0.95)
    prior_u = (0.9995, 0.0004, 0.0001)
    blocks_alone = True

    def prepare(self, raw: str, region: str) -> str | None:
        key = text.name_key(raw).upper()
        return key or None

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 3
        return 2 if len(a) >= 4 and OSA.distance(a, b) <= 1 else 1


class PostalCodeComparator(IdentifierComparator):
    kind = "postal_code"
    prior_m = (0.08, 0.07, 0.85)
    prior_u = (0.98, 0.015, 0.005)
    term_frequency = True
    blocks_alone = False

    def prepare(self, raw: str, region: str) -> str | None:
        return text.normalize_postal_code(raw) or None


def comparator_for(kind: str) -> Comparator:
    comparators: dict[str, type[Comparator]] = {
        "given_name": NameComparator,
        "family_name": NameComparator,
        "full_name": NameComparator,
        "reading": ReadingComparator,
        "company": CompanyComparator,
        "email": EmailComparator,
        "phone": SharedPhoneComparator,
        "postal_code": PostalCodeComparator,
        "address": AddressComparator,
        "date": DateComparator,
        "identifier": IdentifierComparator,
        "text": TextComparator,
    }
    comparator = comparators[kind]()
    comparator.kind = kind
    return comparator
