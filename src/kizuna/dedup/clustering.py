"""Clusters from scored pairs: connected components with a guard against chaining.

Pairs in the merge band are joined best first. Two groups are not joined when
any record of one is kept apart from any record of the other by a rule (two
different people who share info@, the same name at two companies), or, when
linking files, when both groups already hold a record of the same file. So
A–B and B–C do not pull A and C together when A and C contradict each other.
"""

from collections.abc import Iterable, Sequence

from kizuna.dedup.engine import Band, Match, Result


def cluster(
    matches: Iterable[Match],
    *,
    ids: Sequence[str],
    sources: Sequence[int] | None = None,
    band: Band = Band.MERGE,
) -> dict[str, str]:
    """Map every record id to a cluster id (the id of the cluster's first record).

    ``band=Band.REVIEW`` also joins pairs of the review band.
    """
    position = {record_id: i for i, record_id in enumerate(ids)}
    parent = list(range(len(ids)))
    members: dict[int, set[int]] = {i: {i} for i in range(len(ids))}
    file_of: dict[int, set[int]] = (
        {i: {source} for i, source in enumerate(sources)} if sources is not None else {}
    )
    apart: dict[int, set[int]] = {}
    accepted = {Band.MERGE} if band == Band.MERGE else {Band.MERGE, Band.REVIEW}
    edges = []
    for match in matches:
        a, b = position[match.a], position[match.b]
        if match.rules:
            apart.setdefault(a, set()).add(b)
            apart.setdefault(b, set()).add(a)
        elif match.band in accepted:
            edges.append((match.weight, a, b))
    edges.sort(key=lambda edge: -edge[0])

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _weight, a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a == root_b:
            continue
        small, large = sorted((root_a, root_b), key=lambda r: len(members[r]))
        large_members = members[large]
        if any(not apart.get(x, set()).isdisjoint(large_members) for x in members[small]):
            continue
        if file_of and not file_of[small].isdisjoint(file_of[large]):
            continue
        parent[small] = large
        large_members |= members.pop(small)
        if file_of:
            file_of[large] |= file_of.pop(small)
    first: dict[int, str] = {}
    result = {}
    for i, record_id in enumerate(ids):
        root = find(i)
        result[record_id] = first.setdefault(root, record_id)
    return result


def cluster_result(result: Result, *, band: Band = Band.MERGE) -> dict[str, str]:
    return cluster(result.matches, ids=result.ids, sources=result.sources, band=band)
