"""Every message exists in 日本語 and 한국어, and the compiled catalogues match."""

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[1] / "src" / "kizuna" / "locale"
ENTRY = re.compile(r"^msgid ", re.M)


@pytest.mark.parametrize("language", ["ja", "ko"])
def test_catalogue_is_complete_and_compiled(language):
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    assert "#, fuzzy" not in po
    # An untranslated entry has an empty msgstr with no continuation lines.
    assert not re.findall(r'^msgstr(?:\[\d\])? ""\n(?!")', po, re.M), "untranslated messages"
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as f:
        catalogue = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    msgids = len(ENTRY.findall(po)) - 1  # minus the header
    compiled = {k if isinstance(k, str) else k[0] for k in catalogue if k}
    assert len(compiled) == msgids, "run compilemessages: the .mo is older than the .po"


@pytest.mark.parametrize(
    "language, expected", [("ja", "取引先"), ("ko", "고객사"), ("en", "Companies")]
)
def test_ui_words_follow_the_glossary(language, expected):
    with translation.override(language):
        assert translation.gettext("Companies") == expected
