"""Reading incoming mail robustly, Japanese mail in particular.

Japanese mail still arrives as ISO-2022-JP (often with characters outside
the standard set: half-width kana, ① and NEC extensions), as Shift_JIS
labelled as something else, or with raw 8-bit bytes in the Subject. The
declared charset is tried first in a forgiving variant, then the encodings
mail in Japan and Korea really uses; a decoding counts only when it is
strict and looks like text.
"""

import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from django.utils import timezone
from django.utils.html import strip_tags

CP50220 = "x-cp50220"

# Supersets first: cp932 is Shift_JIS with the Windows characters, and the
# ISO-2022-JP variants accept half-width kana and the JIS X 0213 additions.
ALIASES = {
    "iso-2022-jp": ["iso2022_jp", "iso2022_jp_ext", CP50220, "iso2022_jp_2004"],
    "csiso2022jp": ["iso2022_jp", "iso2022_jp_ext", CP50220],
    "shift_jis": ["cp932", "shift_jis_2004"],
    "shift-jis": ["cp932", "shift_jis_2004"],
    "sjis": ["cp932"],
    "x-sjis": ["cp932"],
    "windows-31j": ["cp932"],
    "euc-jp": ["euc_jp", "euc_jis_2004"],
    "ks_c_5601-1987": ["cp949"],
    "euc-kr": ["cp949"],
    "gb2312": ["gb18030"],
}
FALLBACKS = ["utf-8", "iso2022_jp_ext", CP50220, "cp932", "euc_jp", "cp949"]
# Labels mail programs put on bytes they did not understand.
WEAK_LABELS = {
    "",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "latin-1",
    "latin1",
    "windows-1252",
    "unknown-8bit",
    "x-unknown",
}


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    s1 = (j1 + 1) // 2 + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    s2 = j2 + 31 + (1 if j2 >= 96 else 0) if j1 % 2 else j2 + 126
    return bytes((s1, s2))


def decode_cp50220(data: bytes) -> str:
    """ISO-2022-JP as Outlook and many Japanese mailers write it.

    Python's codecs refuse the NEC and IBM extensions (①, ㈱, 髙 …) and
    half-width kana, which are common; mapping the JIS codes to Shift_JIS
    and reading them as cp932 (Windows-31J) keeps them.
    """
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            seq = data[i + 1 : i + 4]
            if seq.startswith((b"$B", b"$@")):
                mode, i = "double", i + 3
            elif seq.startswith((b"$(Q", b"$(O", b"$(D")):
                mode, i = "double", i + 4
            elif seq.startswith(b"(I"):
                mode, i = "kana", i + 3
            elif seq.startswith((b"(B", b"(J", b"(H")):
                mode, i = "ascii", i + 3
            else:
                raise UnicodeDecodeError("cp50220", data, i, i + 1, "unknown escape")
            continue
        if b == 0x0E:
            mode, i = "kana", i + 1
            continue
        if b == 0x0F:
            mode, i = "ascii", i + 1
            continue
        if b >= 0x80:
            raise UnicodeDecodeError("cp50220", data, i, i + 1, "8-bit byte")
        if mode == "double" and 0x21 <= b <= 0x7E and i + 1 < n and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(b, data[i + 1])
            i += 2
            continue
        if mode == "kana" and 0x21 <= b <= 0x5F:
            out.append(b + 0x80)
        else:
            out.append(b)
        i += 1
    return out.decode("cp932")


def _decode(data: bytes, name: str) -> str:
    if name == CP50220:
        return decode_cp50220(data)
    return data.decode(name)


def _candidates(declared: str | None) -> list[str]:
    declared = (declared or "").lower().strip().strip('"')
    names = ALIASES.get(declared, [declared] if declared and declared not in WEAK_LABELS else [])
    return [*names, *[f for f in FALLBACKS if f not in names]]


def _looks_like_text(text: str) -> bool:
    bad = sum(1 for c in text if c == "\ufffd" or ("\x00" <= c < "\x20" and c not in "\t\n\r\f"))
    # Mojibake of Japanese in Latin-1 is full of these.
    latin = sum(1 for c in text if "\x80" <= c <= "\xff")
    return bad == 0 and latin <= len(text) // 20


def _in_ksx1001(char: str) -> bool:
    # Python's euc_kr writes any other syllable as an 8-byte make-up sequence.
    try:
        return len(char.encode("euc_kr")) == 2
    except UnicodeEncodeError:
        return False


def _score(text: str) -> float:
    """How much ``text`` looks like Japanese or Korean rather than mojibake.

    Kana and the 2,350 common Hangul syllables are strong signs; a wrong
    decoding yields rare kanji, rare Hangul (cp949's extension) or
    half-width kana instead.
    """
    score = 0.0
    for char in text:
        o = ord(char)
        if 0x3041 <= o <= 0x30FF or o in (0x3001, 0x3002):
            score += 2
        elif 0xAC00 <= o <= 0xD7A3:
            score += 2 if _in_ksx1001(char) else -1
        elif 0x4E00 <= o <= 0x9FFF:
            score += 0.5
        elif 0xFF61 <= o <= 0xFF9F:
            score += 0.2
        elif o < 0x80:
            score += 0.1
    return score


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str, bool]:
    """(text, encoding used, whether the declared charset was wrong)."""
    label = (declared or "").lower().strip().strip('"')
    if not data:
        return "", label, False
    eight_bit = any(b >= 0x80 for b in data)
    if not eight_bit and b"\x1b" not in data:
        return data.decode("ascii"), "ascii", False
    declared_names = ALIASES.get(label, [label] if label and label not in WEAK_LABELS else [])
    if eight_bit:
        # Valid UTF-8 of any length is almost never another encoding.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text, "utf-8", bool(declared_names) and "utf-8" not in declared_names
    best: tuple[float, str, str] | None = None
    for name in _candidates(declared):
        try:
            text = _decode(data, name)
        except (UnicodeDecodeError, LookupError):
            continue
        if not _looks_like_text(text):
            continue
        score = _score(text) * (1.2 if name in declared_names else 1.0)
        if best is None or score > best[0]:
            best = (score, text, name)
    if best is None:
        return data.decode("cp932", errors="replace"), "cp932", True
    _score_, text, name = best
    return text, name, bool(label) and name not in declared_names


def decode_header_value(value: str | None) -> tuple[str, bool]:
    """A header's text, decoding RFC 2047 words and raw 8-bit bytes."""
    if not value:
        return "", False
    repaired = False
    parts: list[str] = []
    for chunk, charset in decode_header(value):
        raw = chunk.encode("ascii", "surrogateescape") if isinstance(chunk, str) else chunk
        if charset is None and any(b >= 0x80 for b in raw):
            charset = "unknown-8bit"
            repaired = True
        text, _used, wrong = decode_bytes(raw, charset or "us-ascii")
        repaired = repaired or wrong
        parts.append(text)
    # decode_header drops the whitespace between encoded words and text.
    joined = "".join(parts) if len(parts) > 1 else (parts[0] if parts else "")
    return re.sub(r"\s+", " ", joined).strip(), repaired


@dataclass
class ParsedMail:
    message_id: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    subject: str
    body: str
    in_reply_to: str
    references: list[str]
    date: object
    spam_flag: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        return ids + [r for r in reversed(self.references) if r not in ids]


MSGID_RE = re.compile(r"<[^<>\s]+>")


def _body(message: Message, warnings: list[str]) -> str:
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html"):
            continue
        try:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        except Exception:  # a broken transfer encoding
            warnings.append("bad transfer encoding")
            data = str(part.get_payload()).encode("ascii", "surrogateescape")
        text, used, wrong = decode_bytes(data, part.get_content_charset())
        if wrong:
            warnings.append(f"charset {part.get_content_charset() or '-'} read as {used}")
        (plain if ctype == "text/plain" else html).append(text)
    if plain:
        return "\n".join(plain).replace("\r\n", "\n").strip()
    return strip_tags("\n".join(html)).replace("\r\n", "\n").strip()


def parse(raw: bytes) -> ParsedMail:
    """Parse one RFC 822 message; never raises for bad charsets."""
    message = email.message_from_bytes(raw, policy=policy.compat32)
    warnings: list[str] = []
    subject, bad_subject = decode_header_value(message.get("Subject"))
    if bad_subject:
        warnings.append("subject charset repaired")
    from_name, from_address = parseaddr(decode_header_value(message.get("From"))[0])
    message_id = (MSGID_RE.findall(message.get("Message-ID", "")) or [""])[0]
    if not message_id:
        digest = hashlib.sha256(raw).hexdigest()[:32]
        message_id = f"<{digest}@no-message-id.kizuna>"
        warnings.append("no Message-ID")
    try:
        date = parsedate_to_datetime(message.get("Date", ""))
        if timezone.is_naive(date):
            date = timezone.make_aware(date, timezone.get_default_timezone())
    except (TypeError, ValueError, IndexError):
        date = timezone.now()
    in_reply_to = (MSGID_RE.findall(message.get("In-Reply-To", "")) or [""])[0]
    spam = str(message.get("X-Spam-Flag", "")).strip().upper() == "YES" or str(
        message.get("X-Spam-Status", "")
    ).strip().lower().startswith("yes")
    return ParsedMail(
        message_id=message_id[:255],
        from_name=from_name,
        from_address=from_address.strip().lower(),
        to=[a for _n, a in getaddresses(message.get_all("To", []))],
        cc=[a for _n, a in getaddresses(message.get_all("Cc", []))],
        subject=subject[:200],
        body=_body(message, warnings),
        in_reply_to=in_reply_to,
        references=MSGID_RE.findall(message.get("References", "")),
        date=date,
        spam_flag=spam,
        warnings=warnings,
    )
