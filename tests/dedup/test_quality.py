"""F1 on the generated Japanese/Korean contact list (a quality test, not a timed one)."""

from itertools import combinations

from kizuna.dedup.clustering import cluster_result
from kizuna.dedup.engine import Engine
from kizuna.dedup.kinds import guess_fields
from kizuna.dedup.testdata import HEADER, generate


def pairs(assignment: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, list[str]] = {}
    for record, group in assignment.items():
        groups.setdefault(group, []).append(record)
    return {frozenset(p) for members in groups.values() for p in combinations(members, 2)}


def test_generator_is_deterministic_and_has_the_variants():
    rows, truth = generate(seed=3, people=60)
    again, _ = generate(seed=3, people=60)
    assert rows == again
    text = "".join(v for row in generate()[0] for v in row.values())
    for variant in [
        "㈱",
        "株式会社",
        "(株)",
        "㈜",
        "(주)",
        "주식회사",
        "ｻ",
        "髙",
        "丁目",
        "+81",
        "010-",
    ]:
        assert variant in text, variant
    assert len(set(truth.values())) < len(rows)


def test_japanese_korean_f1_is_at_least_098():
    rows, truth = generate()
    engine = Engine(guess_fields(HEADER), entity="contact")
    clusters = cluster_result(engine.run(rows, id_key="No"))
    true, found = pairs(truth), pairs(clusters)
    correct = len(true & found)
    precision, recall = correct / len(found), correct / len(true)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.98, (precision, recall, f1)
