"""A quote as a PDF (御見積書 / 견적서 / quotation): plain data in, bytes out.

Library: fpdf2. It is pure Python (fontTools does the font work), embeds
and subsets OpenType fonts with CFF outlines, which is what every good free
CJK font is (reportlab reads TrueType outlines only, and its built-in CID
fonts HeiseiKakuGo-W5 / HYGothic-Medium are not embedded, so viewers
substitute whatever they have), and its tables break across pages with
repeated headings.

Font: Noto Sans CJK JP Regular, cut down to Japanese and Korean business
text (Windows-31J kanji, every Hangul syllable, Latin) and shipped inside
the package (``fonts/``, 3.6 MB, OFL 1.1; ``fontsubset.py`` rebuilds it), so
a pip install renders correct glyphs with no network and no system fonts.
A character outside that set (a rare JIS X 0213 kanji) is taken from a
system Noto Sans CJK when one is installed; only the glyphs used end up in
the PDF.

The printed wording (御見積書, 御中, 登録番号, 10%対象 …) is part of each
language's form, like its layout and date format, and lives in ``FORMS``
rather than in the UI's message catalogue: the document's language is the
quote's, not the reader's, and a qualified-invoice document must never come
out half translated.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, TextMode, WrapMode, XPos, YPos

from kizuna.sales.quotes.fontsubset import FONT_FILE
from kizuna.sales.quotes.pricing import Totals, format_amount, format_rate

# Where distributions put the full Noto Sans CJK (index 0 is Japanese).
SYSTEM_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian, Ubuntu
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch
)

LANGUAGES = ("ja", "ko", "en")
REDUCED_RATE = Decimal(8)


@dataclass(frozen=True)
class Party:
    name: str
    address: str = ""
    phone: str = ""
    contact: str = ""  # the person the quote is addressed to, or the seller's rep
    registration_number: str = ""  # the seller's T + 13 digits


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal  # quantity × unit price − discount
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class QuoteDocument:
    language: str
    number: str
    issue_date: date
    valid_until: date
    seller: Party
    customer: Party
    lines: list[DocumentLine]
    totals: Totals
    subject: str = ""
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


FORMS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "御見積書",
        "to": "{name} 御中",
        "contact": "{name} 様",
        "intro": "下記のとおり御見積申し上げます。",
        "number": "見積番号",
        "issue_date": "発行日",
        "valid_until": "有効期限",
        "subject": "件名",
        "amount_due": "御見積金額",
        "tax_included": "(税込)",
        "registration": "登録番号",
        "phone": "TEL",
        "rep": "担当",
        "no": "No.",
        "description": "品名",
        "quantity": "数量",
        "unit": "単位",
        "unit_price": "単価",
        "amount": "金額",
        "tax_rate": "税率",
        "line_discount": "値引 {amount}",
        "subtotal": "小計(税抜)",
        "discount": "値引",
        "taxable": "{rate}対象",
        "tax": "消費税",
        "total": "合計",
        "reduced": "※は軽減税率(8%)対象",
        "notes": "備考",
        "stamp": "印",
    },
    "ko": {
        "title": "견적서",
        "to": "{name} 귀중",
        "contact": "{name} 님",
        "intro": "아래와 같이 견적합니다.",
        "number": "견적번호",
        "issue_date": "견적일",
        "valid_until": "유효기간",
        "subject": "건명",
        "amount_due": "견적금액",
        "tax_included": "(부가세 포함)",
        "registration": "등록번호",
        "phone": "전화",
        "rep": "담당",
        "no": "No.",
        "description": "품명",
        "quantity": "수량",
        "unit": "단위",
        "unit_price": "단가",
        "amount": "공급가액",
        "tax_rate": "세율",
        "line_discount": "할인 {amount}",
        "subtotal": "소계",
        "discount": "할인",
        "taxable": "과세 {rate} 공급가액",
        "tax": "부가세",
        "total": "합계",
        "reduced": "※ 경감세율(8%) 대상",
        "notes": "비고",
        "stamp": "인",
    },
    "en": {
        "title": "QUOTATION",
        "to": "{name}",
        "contact": "Attn: {name}",
        "intro": "We are pleased to submit the following quotation.",
        "number": "Quote No.",
        "issue_date": "Issue date",
        "valid_until": "Valid until",
        "subject": "Subject",
        "amount_due": "Total amount",
        "tax_included": "(tax included)",
        "registration": "Registration No.",
        "phone": "Tel",
        "rep": "Contact",
        "no": "No.",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "amount": "Amount",
        "tax_rate": "Tax",
        "line_discount": "Discount {amount}",
        "subtotal": "Subtotal",
        "discount": "Discount",
        "taxable": "Taxable at {rate}",
        "tax": "Tax",
        "total": "Total",
        "reduced": "※ reduced tax rate (8%)",
        "notes": "Notes",
        "stamp": "",
    },
}

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def format_date(value: date, language: str) -> str:
    """2026年11月23日 / 2026년 11월 23일 / 23 November 2026."""
    if language == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    if language == "ko":
        return f"{value.year}년 {value.month}월 {value.day}일"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_quantity(value: Decimal) -> str:
    return f"{value.normalize():,f}"


class FontMissing(RuntimeError):
    pass


@functools.cache
def _bundled_characters() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_FILE), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _system_font() -> Path | None:
    return next((path for path in SYSTEM_FONTS if path.exists()), None)


def _document_text(doc: QuoteDocument) -> Iterable[str]:
    yield from (doc.number, doc.subject, doc.notes, *doc.extra.values())
    for party in (doc.seller, doc.customer):
        yield from (party.name, party.address, party.phone, party.contact)
    for line in doc.lines:
        yield from (line.description, line.unit)


class _QuotePDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text}    {self.page_no()} / {{nb}}", align="R")


class _Renderer:
    GREY = (235, 235, 235)
    INK = (30, 30, 30)
    RULE = (120, 120, 120)

    def __init__(self, doc: QuoteDocument):
        if doc.language not in FORMS:
            raise ValueError(f"no quote form for language {doc.language!r}")
        self.doc = doc
        self.form = FORMS[doc.language]
        self.currency = doc.totals.currency
        self.pdf = _QuotePDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.footer_text = doc.number
        self.pdf.set_title(f"{self.form['title']} {doc.number}")
        self.pdf.set_author(doc.seller.name)
        self.pdf.set_creator("Kizuna")
        self._add_fonts()

    def _add_fonts(self) -> None:
        system = _system_font()
        if FONT_FILE.exists():
            self.pdf.add_font("cjk", fname=str(FONT_FILE))
            known = _bundled_characters()
            needed = {ord(c) for text in _document_text(self.doc) for c in text}
            if system and needed - known - {10, 13}:
                self.pdf.add_font("cjk-system", fname=str(system))
                self.pdf.set_fallback_fonts(["cjk-system"], exact_match=False)
        elif system:
            self.pdf.add_font("cjk", fname=str(system))
        else:
            raise FontMissing(f"no CJK font: {FONT_FILE} is missing and no system font found")

    # Small drawing helpers -------------------------------------------

    def font(self, size: float) -> None:
        self.pdf.set_font("cjk", size=size)

    def bold(self, on: bool) -> None:
        # One weight ships; bold is the outline stroked over the fill.
        self.pdf.text_mode = TextMode.FILL_STROKE if on else TextMode.FILL
        self.pdf.set_line_width(0.25 if on else 0.2)

    def money(self, amount: Decimal) -> str:
        return format_amount(amount, self.currency)

    # The page ---------------------------------------------------------

    def render(self) -> bytes:
        pdf = self.pdf
        pdf.add_page()
        pdf.set_text_color(*self.INK)
        pdf.set_draw_color(*self.RULE)
        self.header()
        self.addressee_and_seller()
        self.lines_table()
        self.summary()
        self.notes()
        return bytes(pdf.output())

    def header(self) -> None:
        pdf, form, doc = self.pdf, self.form, self.doc
        top = pdf.get_y()
        self.font(8.5)
        for label, value in (
            (form["number"], doc.number),
            (form["issue_date"], format_date(doc.issue_date, doc.language)),
        ):
            pdf.set_x(130)
            pdf.cell(22, 4.8, label)
            pdf.cell(0, 4.8, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(top + 12)
        self.font(20)
        self.bold(True)
        # Spaced out like a printed form, without spaces in the text itself.
        pdf.set_char_spacing(4 if doc.language in ("ja", "ko") else 2)
        pdf.cell(0, 11, form["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_char_spacing(0)
        self.bold(False)
        y = pdf.get_y()
        pdf.set_line_width(0.4)
        pdf.line(80, y, 130, y)
        pdf.line(80, y + 0.9, 130, y + 0.9)
        pdf.set_line_width(0.2)
        pdf.set_y(y + 6)

    def addressee_and_seller(self) -> None:
        pdf, form, doc = self.pdf, self.form, self.doc
        top = pdf.get_y()
        left_w = 98

        # The customer, underlined, with the honorific.
        self.font(14)
        pdf.multi_cell(
            left_w,
            7.5,
            form["to"].format(name=doc.customer.name),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        y = pdf.get_y() + 0.5
        pdf.line(15, y, 15 + left_w, y)
        pdf.set_y(y + 1.5)
        self.font(8.5)
        if doc.customer.address:
            pdf.multi_cell(left_w, 4.6, doc.customer.address, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(10)
        if doc.customer.contact:
            pdf.cell(left_w, 6, form["contact"].format(name=doc.customer.contact), new_y=YPos.NEXT)
            pdf.set_x(15)
        pdf.ln(2)
        self.font(9)
        pdf.cell(left_w, 5, form["intro"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
        rows = []
        if doc.subject:
            rows.append((form["subject"], doc.subject))
        rows.append((form["valid_until"], format_date(doc.valid_until, doc.language)))
        for label, value in rows:
            pdf.cell(24, 6, label, border="B")
            pdf.multi_cell(left_w - 24, 6, value, border="B", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)

        # The amount due, in a box that reads first.
        y = pdf.get_y()
        pdf.set_fill_color(*self.GREY)
        pdf.rect(15, y, left_w, 13, style="DF")
        pdf.set_xy(17, y + 1)
        self.font(10)
        pdf.cell(32, 11, form["amount_due"])
        self.font(17)
        self.bold(True)
        pdf.cell(42, 11, self.money(doc.totals.total), align="R")
        self.bold(False)
        self.font(8.5)
        pdf.cell(left_w - 78, 11, form["tax_included"], align="R")
        left_bottom = y + 13

        # The seller, on the right.
        x = 120
        pdf.set_xy(x, top)
        self.font(11)
        self.bold(True)
        pdf.multi_cell(75, 6, doc.seller.name, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.bold(False)
        self.font(8.5)
        for text in (
            doc.seller.address,
            f"{form['phone']} {doc.seller.phone}" if doc.seller.phone else "",
            f"{form['registration']}: {doc.seller.registration_number}"
            if doc.seller.registration_number
            else "",
            f"{form['rep']}: {doc.seller.contact}" if doc.seller.contact else "",
        ):
            if text:
                pdf.multi_cell(75, 4.6, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
        # Seal boxes, as on a paper 御見積書 (approval and the rep's).
        if form["stamp"]:
            seal_y = pdf.get_y() + 3
            for i in range(2):
                pdf.rect(x + 75 - 18 * (i + 1), seal_y, 18, 18)
            pdf.set_text_color(180)
            self.font(8)
            pdf.set_xy(x + 75 - 18, seal_y + 6.5)
            pdf.cell(18, 5, form["stamp"], align="C")
            pdf.set_text_color(*self.INK)
            pdf.set_y(seal_y + 18)
        pdf.set_y(max(pdf.get_y(), left_bottom) + 7)

    def lines_table(self) -> None:
        pdf, form, doc = self.pdf, self.form, self.doc
        reduced = any(line.tax_rate == REDUCED_RATE for line in doc.lines)
        self.font(8.5)
        headings = FontFace(fill_color=self.GREY, emphasis=None)
        with pdf.table(
            col_widths=(8, 72, 14, 18, 26, 28, 14),
            text_align=("CENTER", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT", "CENTER"),
            headings_style=headings,
            line_height=5.2,
            padding=(1.2, 1.5),
            borders_layout=TableBordersLayout.ALL,
            wrapmode=WrapMode.CHAR if doc.language == "ja" else WrapMode.WORD,
            first_row_as_headings=True,
        ) as table:
            table.row(
                [
                    form["no"],
                    form["description"],
                    form["quantity"],
                    form["unit"],
                    form["unit_price"],
                    form["amount"],
                    form["tax_rate"],
                ]
            )
            for number, line in enumerate(doc.lines, start=1):
                description = line.description
                if line.discount:
                    discount = form["line_discount"].format(amount=self.money(-line.discount))
                    description = f"{description}\n{discount}"
                rate = format_rate(line.tax_rate)
                if line.tax_rate == REDUCED_RATE:
                    rate += "※"
                table.row(
                    [
                        str(number),
                        description,
                        format_quantity(line.quantity),
                        line.unit,
                        self.money(line.unit_price),
                        self.money(line.amount),
                        rate,
                    ]
                )
        if reduced:
            self.font(7.5)
            pdf.cell(0, 5, form["reduced"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)

    def summary(self) -> None:
        """Subtotal, discount, 対象額 and 消費税額 per rate, total."""
        pdf, form, totals = self.pdf, self.form, self.doc.totals
        rows: list[tuple[str, str, bool]] = [(form["subtotal"], self.money(totals.subtotal), False)]
        if totals.discount:
            rows.append((form["discount"], self.money(-totals.discount), False))
        for rate in totals.rates:
            label = form["taxable"].format(rate=format_rate(rate.rate))
            rows.append((label, self.money(rate.taxable), False))
            rows.append((f"{form['tax']} ({format_rate(rate.rate)})", self.money(rate.tax), False))
        rows.append((form["total"], self.money(totals.total), True))

        height = 6.2
        if pdf.will_page_break(height * len(rows)):
            pdf.add_page()
        x = 105
        for label, value, strong in rows:
            pdf.set_x(x)
            self.font(10 if strong else 9)
            fill = strong
            if strong:
                pdf.set_fill_color(*self.GREY)
            self.bold(strong)
            pdf.cell(50, height + (1 if strong else 0), label, border="B", fill=fill)
            pdf.cell(
                40,
                height + (1 if strong else 0),
                value,
                border="B",
                align="R",
                fill=fill,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.bold(False)
        pdf.ln(6)

    def notes(self) -> None:
        pdf, form, doc = self.pdf, self.form, self.doc
        if not doc.notes:
            return
        self.font(9)
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.set_fill_color(*self.GREY)
        pdf.cell(0, 6, form["notes"], border=1, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(0, 5, doc.notes, border=1, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_quote(doc: QuoteDocument) -> bytes:
    """The quote as PDF bytes, with the CJK font embedded and subset."""
    return _Renderer(doc).render()
