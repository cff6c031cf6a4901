"""The matching engine: prepare, block, compare, weigh, band.

    matches = find_matches(rows, entity="contact", fields=[("氏名", "full_name"), ...])
    clusters = cluster(matches, ids=[row["id"] for row in rows])

It is plain Python over dicts of strings and needs no database, so the same
code serves an import, a record typed by hand, a web-form lead, a full scan
and the ``kizuna dedup`` command.
"""

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from itertools import combinations

from kizuna.dedup.comparators import MISSING, Comparator, Name, SharedPhone, comparator_for
from kizuna.dedup.kinds import ENTITIES, KINDS
from kizuna.dedup.model import Model, fit

PERSON_ENTITIES = ("contact", "lead")
PERSONAL_KINDS = frozenset(
    {"given_name", "family_name", "full_name", "reading", "email", "phone", "date", "identifier"}
)
RANDOM_PAIRS = 20_000
MAX_BLOCK_SIZE = 40
MIN_RECORDS_FOR_U = 50
# Term-frequency adjustments stay within these bits of the average weight.
TF_MIN_RECORDS = 200
TF_BOUNDS = (-6.0, 4.0)
# A field that disagrees in at most this share of true duplicates is decisive.
DECISIVE_M = 0.02


class Band(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    IGNORE = "ignore"


class Rule(StrEnum):
    """Why a pair may not be merged automatically, whatever its score."""

    DIFFERENT_PERSON = "different_person"
    DIFFERENT_COMPANY = "different_company"
    DIFFERENT_IDENTIFIER = "different_identifier"


@dataclass(frozen=True)
class FieldSpec:
    column: str
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities from which a pair is merged or sent to review."""

    merge: float = 0.99
    review: float = 0.5

    def band(self, probability: float) -> Band:
        if probability >= self.merge:
            return Band.MERGE
        return Band.REVIEW if probability >= self.review else Band.IGNORE


@dataclass(frozen=True)
class Evidence:
    """What one field said about a pair."""

    column: str
    kind: str
    level: str
    weight: float
    a: str
    b: str

    @property
    def outcome(self) -> str:
        if self.level == "missing":
            return "missing"
        if self.weight > 0:
            return "agreed"
        return "disagreed" if self.weight < 0 else "neutral"


class Match:
    """A scored pair. ``evidence`` (what each field said) is worked out on first use."""

    __slots__ = ("a", "b", "score", "weight", "band", "rules", "_evidence")

    def __init__(
        self,
        a: str,
        b: str,
        score: float,
        weight: float,
        band: Band,
        rules: tuple[Rule, ...] = (),
        evidence: "tuple[Evidence, ...] | Callable[[], tuple[Evidence, ...]]" = (),
    ):
        self.a, self.b = a, b
        self.score = score  # the match probability, 0..1
        self.weight = weight  # log2 of the match odds
        self.band = band
        self.rules = rules
        self._evidence = evidence

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        if callable(self._evidence):
            self._evidence = self._evidence()
        return self._evidence

    @property
    def explanation(self) -> str:
        parts = [
            f"{e.column}: {e.outcome} ({e.level}, {e.weight:+.1f})"
            for e in self.evidence
            if e.outcome != "missing"
        ]
        parts += [f"rule: {rule}" for rule in self.rules]
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"Match({self.a!r}, {self.b!r}, score={self.score:.4f}, band={self.band!s})"


@dataclass
class Prepared:
    ids: list[str]
    values: list[tuple[object | None, ...]]
    sources: list[int] | None = None


@dataclass
class Result:
    """Everything a run found: the scored pairs and the fitted model."""

    ids: list[str]
    matches: list[Match]
    model: Model
    candidate_pairs: int
    sources: list[int] | None = None


@dataclass
class Engine:
    fields: Sequence[FieldSpec]
    entity: str = "contact"
    region: str = "JP"
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_block_size: int = MAX_BLOCK_SIZE
    seed: int = 0

    def __post_init__(self):
        if self.entity not in ENTITIES:
            raise ValueError(f"unknown entity {self.entity!r}")
        if not self.fields:
            raise ValueError("no fields to compare")
        self.fields = [f if isinstance(f, FieldSpec) else FieldSpec(*f) for f in self.fields]
        self.comparators: list[Comparator] = [comparator_for(f.kind) for f in self.fields]
        kinds = [f.kind for f in self.fields]
        self.person = self.entity in PERSON_ENTITIES
        self._index = {kind: [i for i, k in enumerate(kinds) if k == kind] for kind in KINDS}
        # Given and family names are one group for blocking, so that swapped
        # names still meet.
        self._groups = [
            "name" if k in ("given_name", "family_name") else str(i) for i, k in enumerate(kinds)
        ]

    # Preparing ----------------------------------------------------------------

    def prepare(
        self,
        records: Iterable[Mapping[str, object]],
        *,
        id_key: str = "id",
        sources: Sequence[int] | None = None,
    ) -> Prepared:
        ids: list[str] = []
        values: list[tuple[object | None, ...]] = []
        columns = [(f.column, c) for f, c in zip(self.fields, self.comparators, strict=True)]
        region = self.region
        for record in records:
            ids.append(str(record[id_key]))
            row = []
            for column, comparator in columns:
                raw = record.get(column)
                row.append(comparator.prepare(str(raw), region) if raw not in (None, "") else None)
            if self.person:
                self._add_readings(row)
            values.append(tuple(row))
        prepared = Prepared(ids, values, list(sources) if sources is not None else None)
        if self.person:
            self._mark_shared_phones(prepared)
        return prepared

    def _add_readings(self, row: list) -> None:
        """Let a name agree with a name written in kana or romaji (ｻﾄｳ ﾀﾛｳ = 佐藤 太郎)."""
        readings = [row[i] for i in self._index["reading"] if row[i] is not None]
        if not readings:
            return
        romaji = [alt for reading in readings for alt in reading.alts]
        whole = "".join(romaji)
        for i in self._index["full_name"]:
            if row[i] is not None and whole:
                row[i] = Name(row[i].key, row[i].alts | {whole}, row[i].phonetic)
        if len(romaji) == 2:
            for kind, alt in (("family_name", romaji[0]), ("given_name", romaji[1])):
                for i in self._index[kind]:
                    if row[i] is not None:
                        row[i] = Name(row[i].key, row[i].alts | {alt}, row[i].phonetic)

    def _person_name(self, row: tuple) -> list:
        return [row[i] for i in self._index["given_name"] + self._index["full_name"]]

    def _mark_shared_phones(self, prepared: Prepared) -> None:
        """A number given by people with different names is a main line, not a person's."""
        name_fields = self._index["given_name"] + self._index["full_name"]
        for phone_index in self._index["phone"]:
            holders: dict[object, list[int]] = defaultdict(list)
            for r, row in enumerate(prepared.values):
                if row[phone_index] is not None:
                    holders[row[phone_index]].append(r)
            shared = set()
            for number, rows in holders.items():
                if len(rows) < 2:
                    continue
                if len(rows) > self.max_block_size or any(
                    self._names_differ(prepared.values[a], prepared.values[b], name_fields)
                    for a, b in combinations(rows, 2)
                ):
                    shared.add(number)
            if not shared:
                continue
            for r, row in enumerate(prepared.values):
                if row[phone_index] in shared:
                    changed = list(row)
                    changed[phone_index] = SharedPhone(row[phone_index])
                    prepared.values[r] = tuple(changed)

    def _names_differ(self, a: tuple, b: tuple, name_fields: list[int]) -> bool:
        for i in name_fields:
            if (
                a[i] is not None
                and b[i] is not None
                and MISSING < self.comparators[i].compare(a[i], b[i]) <= 2
            ):
                return True
        return False

    # Blocking -----------------------------------------------------------------

    def candidate_pairs(self, prepared: Prepared) -> list[tuple[int, int]]:
        """Pairs of records that share a selective key.

        Keys are the value of a selective field (e-mail, phone, identifier,
        date, full name) and every combination of two values of different
        fields (family name + given name, given name + postal code …).
        Blocks larger than ``max_block_size`` are left out: a key that many
        records share is no evidence, and another key finds their pairs.
        """
        blocks: dict[tuple, list[int]] = defaultdict(list)
        comparators = self.comparators
        groups = self._groups
        alone = [
            c.blocks_alone or (c.kind == "full_name") or (self.entity == "company" and i == 0)
            for i, c in enumerate(comparators)
        ]
        # A person's duplicates share something of the person: colleagues
        # share the company, its address and postal code.
        personal = [not self.person or c.kind in PERSONAL_KINDS for c in comparators]
        for r, row in enumerate(prepared.values):
            keys: list[tuple[str, str]] = []
            seen = set()
            for i, value in enumerate(row):
                if value is None:
                    continue
                for v in comparators[i].block_values(value):
                    key = (groups[i], v)
                    if v and key not in seen:
                        seen.add(key)
                        keys.append((str(i), v))
                        if alone[i]:
                            blocks[key].append(r)
            grouped = [(groups[int(i)], v, i) for i, v in keys]
            for (g1, v1, i1), (g2, v2, i2) in combinations(grouped, 2):
                if i1 != i2 and (personal[int(i1)] or personal[int(i2)]):
                    blocks[(g1, v1, g2, v2) if (g1, v1) < (g2, v2) else (g2, v2, g1, v1)].append(r)
        pairs: set[tuple[int, int]] = set()
        sources = prepared.sources
        limit = self.max_block_size
        for members in blocks.values():
            if 1 < len(members) <= limit:
                members = sorted(set(members))
                if sources is None:
                    pairs.update(combinations(members, 2))
                else:
                    pairs.update(
                        (a, b) for a, b in combinations(members, 2) if sources[a] != sources[b]
                    )
        return sorted(pairs)

    def _random_pairs(self, prepared: Prepared) -> list[tuple[int, int]]:
        n = len(prepared.ids)
        if n < MIN_RECORDS_FOR_U:
            # In a handful of records a random pair is too often a duplicate.
            return []
        rng = random.Random(self.seed)
        total = n * (n - 1) // 2
        if total <= RANDOM_PAIRS:
            pairs = list(combinations(range(n), 2))
        else:
            pairs = []
            for _ in range(RANDOM_PAIRS):
                a, b = rng.randrange(n), rng.randrange(n)
                if a != b:
                    pairs.append((a, b))
        if prepared.sources is not None:
            pairs = [(a, b) for a, b in pairs if prepared.sources[a] != prepared.sources[b]]
        return pairs

    # Comparing and scoring ----------------------------------------------------

    def compare(self, a: tuple, b: tuple) -> tuple[int, ...]:
        levels = []
        for i, comparator in enumerate(self.comparators):
            va, vb = a[i], b[i]
            if va is None or vb is None:
                levels.append(MISSING)
            else:
                levels.append(comparator.compare(va, vb))
        return tuple(levels)

    def _swap_levels(self, a: tuple, b: tuple, levels: tuple[int, ...]) -> tuple[int, ...]:
        """Given and family names written the wrong way round sound alike."""
        given, family = self._index["given_name"], self._index["family_name"]
        if len(given) != 1 or len(family) != 1:
            return levels
        g, f = given[0], family[0]
        if levels[g] >= 4 and levels[f] >= 4:
            return levels
        ag, af, bg, bf = a[g], a[f], b[g], b[f]
        cross_given = ag is not None and bf is not None and ag.key == bf.key
        cross_family = af is not None and bg is not None and af.key == bg.key
        if not (cross_given or cross_family):
            return levels
        out = list(levels)
        if cross_given and cross_family:
            out[g] = out[f] = 4
        else:
            # One name moved to the other slot: it counts once.
            out[g] = max(out[g], 4)
        return tuple(out)

    def _levels(self, values, pairs) -> list[tuple[int, ...]]:
        swap = self.person and self._index["given_name"] and self._index["family_name"]
        compare = self.compare
        result = []
        for a, b in pairs:
            levels = compare(values[a], values[b])
            if swap:
                levels = self._swap_levels(values[a], values[b], levels)
            result.append(levels)
        return result

    def _term_frequencies(self, prepared: Prepared) -> list[dict[str, float] | None]:
        tables: list[dict[str, float] | None] = []
        for i, comparator in enumerate(self.comparators):
            if not comparator.term_frequency:
                tables.append(None)
                continue
            counts = Counter(comparator.exact_key(row[i]) for row in prepared.values if row[i])
            present = sum(counts.values())
            if present < TF_MIN_RECORDS:
                tables.append(None)
                continue
            tables.append({value: count / present for value, count in counts.items()})
        return tables

    def _decisive(self, model: Model) -> list[int]:
        """Fields whose disagreement keeps a pair apart.

        A person's given or full name and an identifier are decisive unless
        the data shows that they often disagree between true duplicates
        (typos, nicknames): the model's m for "different" says how often.
        """
        kinds = ("given_name", "full_name", "identifier") if self.person else ("identifier",)
        return [
            i for kind in kinds for i in self._index[kind] if model.fields[i].m[1] <= DECISIVE_M
        ]

    def _rules(self, levels: tuple[int, ...], decisive: list[int]) -> tuple[Rule, ...]:
        rules = []
        index = self._index
        for i in decisive:
            if levels[i] == 1:
                kind = self.fields[i].kind
                rules.append(
                    Rule.DIFFERENT_IDENTIFIER if kind == "identifier" else Rule.DIFFERENT_PERSON
                )
        if self.person and any(levels[i] == 1 for i in index["company"]):
            rules.append(Rule.DIFFERENT_COMPANY)
        return tuple(dict.fromkeys(rules))

    def run(
        self,
        records: Iterable[Mapping[str, object]],
        *,
        id_key: str = "id",
        sources: Sequence[int] | None = None,
    ) -> Result:
        prepared = self.prepare(records, id_key=id_key, sources=sources)
        return self.run_prepared(prepared)

    def run_prepared(self, prepared: Prepared) -> Result:
        values = prepared.values
        pairs = self.candidate_pairs(prepared)
        levels = self._levels(values, pairs)
        random_levels = self._levels(values, self._random_pairs(prepared))
        model = fit(self.comparators, Counter(levels), Counter(random_levels))
        tf_tables = self._term_frequencies(prepared)
        weights = [
            [model.fields[i].weight(level) for level in range(len(c.levels))]
            for i, c in enumerate(self.comparators)
        ]
        exact = [len(c.levels) - 1 for c in self.comparators]
        pattern_weight: dict[tuple[int, ...], float] = {}
        pattern_rules: dict[tuple[int, ...], tuple[Rule, ...]] = {}
        decisive = self._decisive(model)
        matches = []
        thresholds = self.thresholds
        for (a, b), pattern in zip(pairs, levels, strict=True):
            weight = pattern_weight.get(pattern)
            if weight is None:
                weight = pattern_weight[pattern] = model.pattern_weight(pattern)
            for i, table in enumerate(tf_tables):
                if table is not None and pattern[i] == exact[i]:
                    weight += self._tf_adjustment(model, i, table, values[a][i])
            probability = _probability(weight)
            band = thresholds.band(probability)
            rules = pattern_rules.get(pattern)
            if rules is None:
                rules = pattern_rules[pattern] = self._rules(pattern, decisive)
            if rules and band == Band.MERGE:
                band = Band.REVIEW
            if band == Band.IGNORE and not rules:
                continue
            matches.append(
                Match(
                    prepared.ids[a],
                    prepared.ids[b],
                    probability,
                    weight,
                    band,
                    rules,
                    partial(self._evidence, weights, values[a], values[b], pattern),
                )
            )
        matches.sort(key=lambda m: -m.weight)
        return Result(prepared.ids, matches, model, len(pairs), prepared.sources)

    def _evidence(self, weights, a: tuple, b: tuple, pattern) -> tuple[Evidence, ...]:
        return tuple(
            Evidence(
                column=spec.column,
                kind=spec.kind,
                level=self.comparators[i].levels[pattern[i]],
                weight=weights[i][pattern[i]],
                a=str(a[i] or ""),
                b=str(b[i] or ""),
            )
            for i, spec in enumerate(self.fields)
        )

    def _tf_adjustment(self, model: Model, i: int, table: dict[str, float], value) -> float:
        comparator = self.comparators[i]
        frequency = table.get(comparator.exact_key(value))
        if not frequency:
            return 0.0
        u_exact = model.fields[i].u[len(comparator.levels) - 1]
        low, high = TF_BOUNDS
        return min(max(math.log2(u_exact / frequency), low), high)


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


def find_matches(
    records: Iterable[Mapping[str, object]],
    *,
    entity: str = "contact",
    fields: Sequence[FieldSpec | tuple[str, str]],
    id_key: str = "id",
    region: str = "JP",
    thresholds: Thresholds | None = None,
) -> list[Match]:
    """Scored pairs of probable duplicates, best first.

    Pairs in the merge and review bands are returned, and any pair that a rule
    keeps apart (it tells ``cluster`` not to join them).
    """
    engine = Engine(
        [f if isinstance(f, FieldSpec) else FieldSpec(*f) for f in fields],
        entity=entity,
        region=region,
        thresholds=thresholds or Thresholds(),
    )
    return engine.run(records, id_key=id_key).matches
