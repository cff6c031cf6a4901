"""Fellegi–Sunter weights, estimated on the data itself.

Each field's comparison level has a probability ``m`` among pairs that are
the same entity and ``u`` among pairs that are not; a pair's match weight is
the sum of ``log2(m / u)`` over its fields plus the prior log-odds. ``u``
comes from random pairs of records (nearly all of them are different
entities), ``m`` and the share of matches among the candidate pairs from
expectation–maximisation over the candidate pairs' comparison patterns. The
comparators' priors act as pseudo-counts, so a small file still gets sane
weights.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kizuna.dedup.comparators import MISSING, Comparator

U_PSEUDO_COUNT = 20.0
M_PSEUDO_COUNT = 10.0
PROBABILITY_FLOOR = 1e-6
MIN_PAIRS_TO_LEARN = 100
PRIOR_MATCH_SHARE = 0.1


@dataclass
class FieldModel:
    m: list[float]
    u: list[float]
    neutral: frozenset[int]

    def weight(self, level: int) -> float:
        if level == MISSING or level in self.neutral:
            return 0.0
        return math.log2(self.m[level] / self.u[level])


@dataclass
class Model:
    fields: list[FieldModel]
    match_share: float  # λ: the share of matches among the candidate pairs
    iterations: int = 0

    @property
    def prior_weight(self) -> float:
        return math.log2(self.match_share / (1.0 - self.match_share))

    def pattern_weight(self, pattern: Sequence[int]) -> float:
        return self.prior_weight + sum(
            f.weight(level) for f, level in zip(self.fields, pattern, strict=True)
        )


def _normalised(counts: list[float]) -> list[float]:
    total = sum(counts[1:])
    return [1.0] + [max(c / total, PROBABILITY_FLOOR) for c in counts[1:]]


def estimate_u(comparators: Sequence[Comparator], random_patterns: Counter) -> list[list[float]]:
    """u per field and level from the levels of random record pairs."""
    result = []
    for index, comparator in enumerate(comparators):
        counts = [0.0] + [U_PSEUDO_COUNT * p for p in comparator.prior_u]
        for pattern, count in random_patterns.items():
            if pattern[index] != MISSING:
                counts[pattern[index]] += count
        result.append(_normalised(counts))
    return result


def fit(
    comparators: Sequence[Comparator],
    patterns: Counter,
    random_patterns: Counter,
    *,
    max_iterations: int = 40,
    tolerance: float = 1e-5,
) -> Model:
    """Estimate the model by EM over the candidate pairs' comparison patterns.

    With fewer than ``MIN_PAIRS_TO_LEARN`` candidate pairs there is nothing
    to learn from, and the comparators' priors are the model.
    """
    u = estimate_u(comparators, random_patterns)
    m = [[1.0, *c.prior_m] for c in comparators]
    share = PRIOR_MATCH_SHARE
    items = list(patterns.items())
    total = sum(patterns.values()) or 1
    iterations = 0
    if total < MIN_PAIRS_TO_LEARN:
        max_iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        m_counts = [[0.0] + [M_PSEUDO_COUNT * p for p in c.prior_m] for c in comparators]
        matched = 0.0
        for pattern, count in items:
            m_product = u_product = 1.0
            for index, level in enumerate(pattern):
                if level != MISSING:
                    m_product *= m[index][level]
                    u_product *= u[index][level]
            numerator = share * m_product
            posterior = numerator / (numerator + (1.0 - share) * u_product)
            weight = posterior * count
            matched += weight
            for index, level in enumerate(pattern):
                if level != MISSING:
                    m_counts[index][level] += weight
        new_m = [_normalised(counts) for counts in m_counts]
        new_share = min(max(matched / total, 1e-6), 1 - 1e-6)
        change = abs(new_share - share) + max(
            abs(a - b)
            for old, new in zip(m, new_m, strict=True)
            for a, b in zip(old, new, strict=True)
        )
        m, share = new_m, new_share
        if change < tolerance:
            break
    fields = [
        FieldModel(m=m_f, u=u_f, neutral=c.neutral)
        for m_f, u_f, c in zip(m, u, comparators, strict=True)
    ]
    return Model(fields=fields, match_share=share, iterations=iterations)
