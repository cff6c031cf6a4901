"""Quote PDFs: Japanese and Korean glyphs embedded, text extractable, pages render."""

import dataclasses
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from kizuna.sales.quotes import pdf
from kizuna.sales.quotes.pricing import Line, compute

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
    reason="poppler-utils is not installed (.ci/run installs it)",
)

ITEMS = {
    "ja": [
        ("クラウドCRM ライセンス(年額)", D(12), "ユーザー", D(36000), D(10), D(0)),
        ("導入支援・初期設定", D(1), "式", D(250000), D(10), D(50000)),
        ("会議用お弁当(軽減税率)", D(20), "個", D(1080), D(8), D(0)),
    ],
    "ko": [
        ("클라우드 CRM 라이선스 (연간)", D(12), "명", D(360000), D(10), D(0)),
        ("도입 지원 및 초기 설정", D(1), "식", D(2500000), D(10), D(0)),
    ],
    "en": [
        ("Cloud CRM licence (yearly)", D(12), "user", D(36000), D(10), D(0)),
        ("Onboarding", D(1), "lot", D(250000), D(10), D(0)),
    ],
}
CUSTOMERS = {"ja": "株式会社髙島屋商事", "ko": "주식회사 한빛상사", "en": "Acme Trading Ltd."}
CURRENCY = {"ja": "JPY", "ko": "KRW", "en": "JPY"}


def sample(language: str, **overrides) -> pdf.QuoteDocument:
    items = overrides.pop("items", ITEMS[language])
    currency = CURRENCY[language]
    lines = [Line(quantity=q, unit_price=p, tax_rate=r, discount=d) for _, q, _, p, r, d in items]
    totals = compute(lines, currency=currency, discount=overrides.pop("discount", D(0)))
    fields = dict(
        language=language,
        number="Q-2026-0001",
        issue_date=date(2026, 11, 23),
        valid_until=date(2026, 12, 23),
        seller=pdf.Party(
            name="絆ソリューションズ株式会社",
            address="〒100-0005 東京都千代田区丸の内1-1-1",
            phone="03-1234-5678",
            contact="佐藤 花子",
            registration_number="T7000012050002",
        ),
        customer=pdf.Party(name=CUSTOMERS[language], contact="山田 太郎"),
        lines=[
            pdf.DocumentLine(
                description=name,
                quantity=q,
                unit=unit,
                unit_price=p,
                tax_rate=r,
                discount=d,
                amount=amount.net,
            )
            for (name, q, unit, p, r, d), amount in zip(items, totals.lines, strict=True)
        ],
        totals=totals,
        subject="CRM導入のお見積り",
        notes="お支払条件: 月末締め翌月末払い\n納期: ご発注後2週間",
    )
    fields.update(overrides)
    return pdf.QuoteDocument(**fields)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "quote.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_dates_in_each_language():
    day = date(2026, 11, 23)
    assert pdf.format_date(day, "ja") == "2026年11月23日"
    assert pdf.format_date(day, "ko") == "2026년 11월 23일"
    assert pdf.format_date(day, "en") == "23 November 2026"


def test_the_bundled_font_covers_japanese_and_korean():
    covered = pdf._bundled_characters()
    for text in ("御見積書御中髙﨑㈱", "견적서귀중똠햏㈜", "¥₩$0123456789"):
        assert {ord(c) for c in text} <= covered, text


@needs_poppler
def test_japanese_quote_text_and_page(tmp_path):
    data = pdf.render_quote(sample("ja"))
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    for expected in (
        "御見積書",
        "株式会社髙島屋商事 御中",
        "Q-2026-0001",
        "2026年11月23日",
        "2026年12月23日",
        "T7000012050002",
        "クラウドCRM ライセンス",
        "10%対象",
        "8%対象",
        "消費税",
        "※は軽減税率(8%)対象",
        "お支払条件",
    ):
        assert expected in text, expected
    # 432,000 + 200,000 at 10 % → 63,200 tax; 21,600 at 8 % → 1,728.
    assert "¥718,528" in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "quote.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "NotoSansCJK" in fonts and " yes yes " in fonts  # embedded and subset

    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(tmp_path / "quote.pdf"),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    page = tmp_path / "page-1.png"
    assert page.exists() and page.stat().st_size > 10_000


@needs_poppler
def test_korean_quote(tmp_path):
    text = pdf_text(pdf.render_quote(sample("ko")), tmp_path)
    for expected in (
        "견적서",
        "주식회사 한빛상사 귀중",
        "2026년 11월 23일",
        "부가세",
        "₩7,502,000",
    ):
        assert expected in text, expected


@needs_poppler
def test_english_quote(tmp_path):
    text = pdf_text(pdf.render_quote(sample("en")), tmp_path)
    for expected in ("QUOTATION", "Acme Trading Ltd.", "23 November 2026", "Taxable at 10%"):
        assert expected in text, expected


@needs_poppler
def test_many_lines_break_across_pages(tmp_path):
    items = [(f"品目{i:03d}", D(1), "個", D(1000), D(10), D(0)) for i in range(60)]
    text = pdf_text(pdf.render_quote(sample("ja", items=items)), tmp_path)
    assert "品目000" in text and "品目059" in text
    pages = re.findall(r"Q-2026-0001 +(\d+) / (\d+)", text)
    assert len(pages) == int(pages[-1][1]) >= 2
    assert text.count("品名") == len(pages)  # the headings repeat on every page
    assert "¥66,000" in text


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        pdf.render_quote(dataclasses.replace(sample("ja"), language="fr"))
