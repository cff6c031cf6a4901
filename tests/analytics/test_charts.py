from decimal import Decimal

from django.utils import translation

from kizuna.analytics import charts
from kizuna.analytics.charts import CohortRow, Series


def test_money_formats():
    assert charts.format_money(Decimal("1234000"), "JPY") == "¥1,234,000"
    assert charts.format_money(1234000, "KRW") == "₩1,234,000"
    assert charts.format_money(None, "JPY") == "n/a"
    assert charts.format_percent(0.254) == "25.4%"
    with translation.override("ja"):
        assert charts.format_short(1_200_000, "JPY") == "¥120万"
        assert charts.format_short(350_000_000, "JPY") == "¥3.5億"
    with translation.override("ko"):
        assert charts.format_short(1_200_000, "KRW") == "₩120만"
        assert charts.format_short(350_000_000, "KRW") == "₩3.5억"
    with translation.override("en"):
        assert charts.format_short(1_200_000, "JPY") == "¥1.2M"
        assert charts.format_short(999, None) == "999"


def test_nice_ticks():
    assert charts.nice_ticks(95) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(0) == [0.0, 1.0]


def test_bar_chart_is_accessible_svg_with_a_table_and_escapes_text():
    html = charts.bar_chart(
        ["東京<営業>", "大阪"],
        Series("won", [Decimal(1_000_000), Decimal(250_000)]),
        title="Won by team",
        currency="JPY",
        links=["/deals/?team=1", None],
    )
    assert html.startswith('<figure class="chart chart-bar">')
    assert 'role="img"' in html and "<title" in html and "<desc" in html
    assert "東京&lt;営業&gt;" in html and "<営業>" not in html
    assert "¥1,000,000" in html  # the data table has the full amount
    assert 'href="/deals/?team=1"' in html
    assert "http" not in html  # nothing to fetch


def test_every_chart_renders_and_handles_gaps():
    labels = ["4月", "5月", "6月"]
    a = Series("A", [1, None, 3])
    b = Series("B", [2, 2, 0])
    for html in [
        charts.bar_chart(labels, [a, b], title="t", orientation="vertical"),
        charts.bar_chart(labels, [a, b], title="t"),
        charts.stacked_bars(labels, [a, b], title="t"),
        charts.stacked_bars(labels, [a, b], title="t", orientation="horizontal"),
        charts.line_chart(labels, [a, b], title="t", percent=True),
        charts.funnel(labels, [10, 4, 0], title="t"),
    ]:
        assert html.count("<svg") == 1 and html.count("</svg>") == 1
        assert "n/a" in html or "0" in html


def test_empty_data_shows_an_honest_state():
    html = charts.bar_chart([], [], title="t")
    assert "No data for this period." in html and "<svg" not in html
    assert "No data" in charts.line_chart(["x"], Series("s", [None]), title="t")


def test_funnel_shows_the_share_of_the_previous_stage():
    html = charts.funnel(["Lead", "Qualified", "Won"], [10, 4, 1], title="Funnel")
    assert "40%" in html and "25%" in html


def test_cohort_table():
    html = charts.cohort_table(
        [CohortRow("2026-04", 10, [1.0, 0.5, None], link="/drill/")],
        ["+0", "+1", "+2"],
        title="Retention",
    )
    assert "100%" in html and "50%" in html and "n/a" not in html
    assert '<a href="/drill/">2026-04</a>' in html
    assert html.count("<td") == 4  # the size, two rates and the blank future
    assert "rgba(29,95,168" in html
