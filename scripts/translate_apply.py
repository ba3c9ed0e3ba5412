"""Fill empty zh_CN msgstr entries from a Python dict file: python scripts/translate_apply.py FILE.py

The file defines ``ZH = {msgid: translation}``. Existing translations are never overwritten, so
several people can add their domain's strings independently.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "src/countyos/locales/zh_CN/LC_MESSAGES/messages.po"


def main() -> int:
    table: dict[str, str] = runpy.run_path(sys.argv[1])["ZH"]
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    filled = 0
    for msg in catalog:
        if msg.id and not msg.string and msg.id in table:
            msg.string = table[msg.id]
            filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, omit_header=True, sort_output=True, width=0)
    print(f"filled {filled} translations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
