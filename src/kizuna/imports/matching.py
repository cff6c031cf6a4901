"""The bridge to the 名寄せ engine's database lookup (``kizuna.dedup.lookup``).

Rows are handed over with the engine's canonical keys; the engine answers per
row the best existing record with its band and an explanation.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    record_id: int
    band: str  # "merge" | "review"
    score: float
    explanation: str
    evidence: Any = None


def canonical(entity: str, values: Mapping[str, Any]) -> dict[str, str]:
    def first(key: str) -> str:
        value = values.get(key) or ""
        return "; ".join(value) if isinstance(value, list) else str(value or "")

    if entity == "company":
        address = " ".join(
            str(values.get(k) or "") for k in ("prefecture", "city", "street", "building")
        ).strip()
        return {
            "name": first("name"),
            "name_reading": first("name_reading"),
            "corporate_number": first("corporate_number"),
            "domain": first("domain"),
            "phone": first("phone"),
            "postal_code": first("postal_code"),
            "address": address,
        }
    return {
        "family_name": first("family_name"),
        "given_name": first("given_name"),
        "family_name_reading": first("family_name_reading"),
        "given_name_reading": first("given_name_reading"),
        "company": first("company") or first("company_name"),
        "email": first("email"),
        "phone": first("phone"),
        "postal_code": first("postal_code"),
        "address": first("address"),
    }


def match(
    entity: str, rows: Sequence[Mapping[str, str]], user, cache: dict[str, Any]
) -> list[Match | None]:
    """The engine's answer per row; all None when the engine is not installed.

    The loaded matcher (an in-memory index of the existing records) is kept in
    ``cache`` so that a file's chunks load it once.
    """
    try:
        from kizuna.dedup.lookup import Matcher
    except ImportError:
        return [None] * len(rows)
    if "matcher" not in cache:
        # The records the user may see, loaded as one whole set: with
        # ``user=`` the lookup treats the load as a narrowed one and lists
        # every phone number it read in one ``IN``, which SQLite (32,766) and
        # PostgreSQL (65,535) refuse beyond some tens of thousands of records.
        from kizuna.core import access
        from kizuna.customers.models import Company, Contact, Lead

        model: Any = {"company": Company, "contact": Contact, "lead": Lead}[entity]
        cache["matcher"] = Matcher.load(entity, queryset=access.visible(model.objects.all(), user))
    matcher = cache["matcher"]
    results: list[Match | None] = []
    for found in matcher.match(rows):
        band = getattr(getattr(found, "band", None), "value", getattr(found, "band", None))
        if found is None or str(band).lower() not in ("merge", "review"):
            results.append(None)
            continue
        results.append(
            Match(
                record_id=found.record_id,
                band=str(band).lower(),
                score=float(found.score),
                explanation=str(found.explanation),
                evidence=_evidence_json(getattr(found, "evidence", None)),
            )
        )
    return results


def _evidence_json(evidence) -> list:
    if not evidence:
        return []
    from kizuna.dedup.lookup import evidence_json

    return evidence_json(evidence)
