"""Build the CJK font that ships inside Kizuna for quote PDFs.

Noto Sans CJK (SIL Open Font License 1.1; the reserved font name is
"Source", not "Noto") covers Japanese, Korean and Latin in one design. The
whole font is 16 MB per weight, so Kizuna ships one weight cut down to what
Japanese and Korean business documents use: every character of Windows-31J
(JIS X 0208 with the NEC and IBM extensions, so 髙 and 﨑 are there), all
11,172 Hangul syllables, Latin, kana and the usual symbols. Anything else
falls back to a system CJK font at render time (see ``pdf.py``).

Run it again when the source font or the character set changes::

    python -m kizuna.sales.quotes.fontsubset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(index 0 of Debian's collection is the Japanese variant).
"""

import argparse
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILE = FONT_DIR / "NotoSansCJKjp-Regular-Kizuna.otf"

_RANGES = [
    (0x0020, 0x024F),  # Latin, Latin-1, Latin Extended-A/B
    (0x2000, 0x206F),  # general punctuation
    (0x20A0, 0x20CF),  # currency symbols (₩ €)
    (0x2100, 0x214F),  # letterlike (№ ℡ ™)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed alphanumerics (①)
    (0x25A0, 0x25FF),  # geometric shapes (○ ● ■ ※ is below)
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x3200, 0x33FF),  # enclosed CJK (㈱ ㈜) and CJK compatibility (㍿)
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xFF00, 0xFFEF),  # half-width and full-width forms
]


def _double_byte(codec: str, leads: list[int], trails: range) -> set[str]:
    found = set()
    for lead in leads:
        for trail in trails:
            try:
                text = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                found.add(text)
    return found


def characters() -> str:
    chars = {chr(c) for start, end in _RANGES for c in range(start, end + 1)}
    sjis_leads = [*range(0x81, 0xA0), *range(0xE0, 0xFD)]
    chars |= _double_byte("cp932", sjis_leads, range(0x40, 0xFD))
    chars.add("※")
    return "".join(sorted(chars))


def build(source: Path, font_number: int = 0, target: Path = FONT_FILE) -> None:
    from fontTools import subset

    options = subset.Options()
    options.font_number = font_number
    options.layout_features = []  # fpdf2 places glyphs without shaping
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "vhea", "vmtx"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Noto Sans CJK .otf or .ttc")
    parser.add_argument("--font-number", type=int, default=0, help="index in a .ttc")
    args = parser.parse_args()
    build(args.source, args.font_number)


if __name__ == "__main__":
    main()
