"""Translation catalogs: extract message ids from code and templates, merge into the .po files.

    python scripts/i18n.py update   # extract + merge (new ids appear untranslated in zh_CN)
    python scripts/i18n.py check    # exit 1 listing every gap: an id used in code or templates that
                                    # is not in the zh_CN catalog, and every untranslated or fuzzy entry

English is the source language (message ids); the ``en`` catalog stays empty on purpose.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "src" / "countyos" / "locales"
POT = ROOT / "build" / "messages.pot"


def error_types() -> list[str]:
    """Error classes take their message id as first argument, so their names are keywords too."""
    import importlib
    import pkgutil

    import countyos
    from countyos.core.errors import CountyError

    for mod in pkgutil.walk_packages(countyos.__path__, "countyos."):
        try:
            importlib.import_module(mod.name)
        except Exception:  # a module that cannot be imported contributes no error types
            continue
    found: set[str] = set()
    todo = [CountyError]
    while todo:
        cls = todo.pop()
        if cls.__dict__.get("takes_message_id", True):
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return sorted(found)


KEYWORDS = ["_", "N_", "gettext", "ngettext:1,2", "translate:2", "LazyText"]


def extract() -> None:
    POT.parent.mkdir(exist_ok=True)
    keywords = [arg for k in KEYWORDS + error_types() for arg in ("-k", k)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *keywords,
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(POT),
            str(ROOT / "src" / "countyos"),
        ],
        check=True,
        capture_output=True,
    )


def update() -> None:
    extract()
    for locale in ("zh_CN", "en"):
        po = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            cmd = [
                "update",
                "-i",
                str(POT),
                "-o",
                str(po),
                "-l",
                locale,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
                "--omit-header",
            ]
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            cmd = ["init", "-i", str(POT), "-o", str(po), "-l", locale]
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", *cmd], check=True, capture_output=True)
    print("catalogs updated; translate the empty msgstr entries in", LOCALES / "zh_CN")


def _key(message_id: object) -> str:
    """A message id as one string (a plural entry's id is the pair singular, plural)."""
    return " | ".join(message_id) if isinstance(message_id, tuple | list) else str(message_id)


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(s and str(s).strip() for s in string)
    return bool(string and str(string).strip())


def gaps(pot: Path = POT, po: Path = LOCALES / "zh_CN" / "LC_MESSAGES" / "messages.po") -> list[str]:
    """What keeps the Chinese interface from being whole, one line each:

    - ``missing:`` an id used in code or templates (in POT) that the zh_CN catalog does not hold;
    - ``untranslated:`` a zh_CN entry with an empty translation (or an empty plural form);
    - ``fuzzy:`` a zh_CN entry marked fuzzy (a guess that the interface does not show).
    """
    with pot.open("rb") as f:
        wanted = {_key(m.id) for m in read_po(f) if m.id}
    with po.open("rb") as f:
        entries = [m for m in read_po(f, locale="zh_CN") if m.id]
    held = {_key(m.id) for m in entries}
    out = [f"missing: {k}" for k in sorted(wanted - held)]
    out += [f"untranslated: {_key(m.id)}" for m in entries if not _translated(m.string)]
    out += [f"fuzzy: {_key(m.id)}" for m in entries if m.fuzzy and _translated(m.string)]
    return out


def missing() -> list[str]:
    extract()
    return gaps()


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "update":
        update()
        return 0
    found = missing()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
