"""Reading import files: CSV in the encodings Japan and Korea use, and XLSX.

Both readers stream: a 200 MB file is read row by row, never whole.

Encoding detection is a decode-and-score of the file's first 64 KB rather
than charset-normalizer: the candidates are few and known (UTF-8, CP932,
EUC-JP, CP949), a strict decode rules most of them out at once, and what is
left is scored by how much of the text is kana, hangul or common kanji. It
is deterministic, needs no dependency, and tells EUC-JP from CP949 (which a
byte-statistics detector confuses on short samples of names).
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

SAMPLE_SIZE = 64 * 1024
CANDIDATES = ("cp932", "euc_jp", "cp949")
ENCODING_LABELS = {
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-8": "UTF-8",
    "cp932": "Shift_JIS (CP932)",
    "euc_jp": "EUC-JP",
    "cp949": "EUC-KR (CP949)",
}
csv.field_size_limit(10 * 1024 * 1024)


def _score(text: str) -> float:
    """The share of characters that are plausible in a ja/ko business file."""
    if not text:
        return 0.0
    good = 0
    for char in text:
        code = ord(char)
        if (
            code < 0x80
            or 0x3040 <= code <= 0x30FF  # kana
            or 0xAC00 <= code <= 0xD7A3  # hangul syllables
            or 0x4E00 <= code <= 0x9FFF  # CJK ideographs
            or 0xFF01 <= code <= 0xFF9F  # full/half width forms
            or 0x3000 <= code <= 0x303F  # CJK punctuation
        ):
            good += 1
    score = good / len(text)
    # Decoding bytes in the wrong legacy encoding tends to give rare kanji or
    # hanja; a real file has kana (ja) or hangul (ko) among its kanji.
    kana = sum(1 for c in text if 0x3040 <= ord(c) <= 0x30FF)
    hangul = sum(1 for c in text if 0xAC00 <= ord(c) <= 0xD7A3)
    return score + 0.5 * max(kana, hangul) / len(text)


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV file from its first bytes."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    truncated = len(sample) >= SAMPLE_SIZE

    def decode(encoding: str) -> str:
        return _decode_cut(sample, encoding) if truncated else sample.decode(encoding)

    try:
        decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best, best_score = "cp932", -1.0
    for encoding in CANDIDATES:
        try:
            text = decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if score > best_score:
            best, best_score = encoding, score
    return best


def _decode_cut(sample: bytes, encoding: str) -> str:
    """Decode a sample that may end in the middle of a multi-byte character."""
    for trim in range(4):
        try:
            return sample[: len(sample) - trim].decode(encoding)
        except UnicodeDecodeError:
            if trim == 3:
                raise
    raise AssertionError("unreachable")


# A cell written as ="0312345678" keeps Excel from dropping leading zeros.
_QUOTED_FORMULA_RE = re.compile(r'^="(.*)"$', re.S)


def clean_cell(value: object) -> str:
    if type(value) is str:
        # CSV cells are text: the common case, kept short.
        text = value.strip()
        if text.startswith('="'):
            match = _QUOTED_FORMULA_RE.match(text)
            if match:
                return match.group(1).strip()
        return text
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        text = value.isoformat()  # type: ignore[union-attr]
        return text[:10] if text.endswith("T00:00:00") else text
    text = str(value).strip()
    match = _QUOTED_FORMULA_RE.match(text)
    if match:
        return match.group(1).strip()
    return text


def is_formula(text: str) -> bool:
    return text.startswith("=") and len(text) > 1


@dataclass
class Table:
    headers: list[str]
    encoding: str
    # (row number in the file counting the header as 1, cells)
    rows: Iterator[tuple[int, list[str]]]
    close: object = None


def file_format(name: str) -> str:
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


def open_table(handle: IO[bytes], name: str) -> Table:
    """Headers and a stream of rows; ``handle`` must stay open while reading."""
    if file_format(name) == "xlsx":
        return _open_xlsx(handle)
    return _open_csv(handle)


def _open_csv(handle: IO[bytes]) -> Table:
    sample = handle.read(SAMPLE_SIZE)
    handle.seek(0)
    encoding = detect_encoding(sample)
    # Undecodable bytes become U+FFFD, and that row gets a message, instead of
    # the whole file failing at row 80,000.
    text = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text)
    headers: list[str] = []
    for row in reader:
        if any(cell.strip() for cell in row):
            headers = [_header(c) for c in row]
            break
    start = reader.line_num

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = start
        for row in reader:
            number += 1
            if not any(cell.strip() for cell in row):
                continue
            yield number, [clean_cell(c) for c in row]

    return Table(headers=headers, encoding=encoding, rows=rows(), close=text.detach)


def _open_xlsx(handle: IO[bytes]) -> Table:
    from openpyxl import load_workbook

    # data_only: a formula cell gives the value Excel computed last, not "=A1*2".
    workbook = load_workbook(handle, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers: list[str] = []
    number = 0
    for values in iterator:
        number += 1
        if any(v not in (None, "") for v in values):
            headers = [_header(clean_cell(v)) for v in values]
            break
    start = number

    def rows() -> Iterator[tuple[int, list[str]]]:
        n = start
        for values in iterator:
            n += 1
            cells = [clean_cell(v) for v in values]
            if not any(cells):
                continue
            yield n, cells

    return Table(headers=headers, encoding="xlsx", rows=rows(), close=workbook.close)


def _header(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").replace("\ufeff", "").strip()
