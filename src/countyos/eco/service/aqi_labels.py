"""What a person reads for an AQI level (HJ 633-2012 表2): its 级别 and 类别 as message ids, so that the
interface shows 一级 · 优 in Chinese and Level I · Excellent in English (the data table keeps the Chinese)."""

from __future__ import annotations

from countyos.core.i18n import N_

LEVEL_NAMES = {
    1: N_("Level I"),
    2: N_("Level II"),
    3: N_("Level III"),
    4: N_("Level IV"),
    5: N_("Level V"),
    6: N_("Level VI"),
}
CATEGORY_NAMES = {
    1: N_("Excellent"),
    2: N_("Good"),
    3: N_("Lightly polluted"),
    4: N_("Moderately polluted"),
    5: N_("Heavily polluted"),
    6: N_("Severely polluted"),
}
