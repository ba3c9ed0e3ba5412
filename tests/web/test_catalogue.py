"""The zh_CN catalogue is whole: every message id used in code and templates is in it, translated,
and none is fuzzy (``scripts/i18n.py check``, which the test command runs, says the same)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _i18n_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("countyos_i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


POT = """\
msgid "Used and translated"
msgstr ""

msgid "Used, translated only as a guess"
msgstr ""

msgid "Used, never translated"
msgstr ""

msgid "Used in a template, not in the catalogue"
msgstr ""

msgid "%(num)s case"
msgid_plural "%(num)s cases"
msgstr[0] ""
msgstr[1] ""
"""

PO = """\
msgid "Used and translated"
msgstr "已使用且已翻译"

#, fuzzy
msgid "Used, translated only as a guess"
msgstr "猜测的翻译"

msgid "Used, never translated"
msgstr ""

msgid "In the catalogue, translated, no longer used"
msgstr "不再使用"

msgid "%(num)s case"
msgid_plural "%(num)s cases"
msgstr[0] ""
"""


def test_gaps_name_missing_untranslated_and_fuzzy_entries(tmp_path: Path) -> None:
    (tmp_path / "messages.pot").write_text(POT, encoding="utf-8")
    (tmp_path / "messages.po").write_text(PO, encoding="utf-8")
    gaps = _i18n_script().gaps(tmp_path / "messages.pot", tmp_path / "messages.po")
    assert gaps == [
        "missing: Used in a template, not in the catalogue",
        "untranslated: Used, never translated",
        "untranslated: %(num)s case | %(num)s cases",
        "fuzzy: Used, translated only as a guess",
    ]


def test_a_whole_catalogue_has_no_gaps(tmp_path: Path) -> None:
    (tmp_path / "messages.pot").write_text(POT.split("\nmsgid", 2)[0] + "\n", encoding="utf-8")
    (tmp_path / "messages.po").write_text(PO.split("\n#, fuzzy", 1)[0] + "\n", encoding="utf-8")
    assert _i18n_script().gaps(tmp_path / "messages.pot", tmp_path / "messages.po") == []


def test_the_zh_cn_catalogue_is_whole() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout.strip()) == (0, ""), done.stdout + done.stderr
