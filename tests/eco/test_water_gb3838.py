"""GB 3838-2002 表1 classes: every basic item at each limit (equal → that class, just past → the next
class whose limit differs, or 劣V), river and lake 总磷, 溶解氧 reversed, pH outside 6–9, the sample's
class, 超标项目 and 超标倍数, 总氮 for lakes only."""

from __future__ import annotations

import pytest

from countyos.eco.service import gb3838

pytestmark = pytest.mark.backend_neutral

# The standard's table as printed (I, II, III, IV, V), typed here apart from the data file.
UPPER = {
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tn": (0.2, 0.5, 1.0, 1.5, 2.0),
    "cu": (0.01, 1.0, 1.0, 1.0, 1.0),
    "zn": (0.05, 1.0, 1.0, 2.0, 2.0),
    "f": (1.0, 1.0, 1.0, 1.5, 1.5),
    "se": (0.01, 0.01, 0.01, 0.02, 0.02),
    "as": (0.05, 0.05, 0.05, 0.1, 0.1),
    "hg": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "cd": (0.001, 0.005, 0.005, 0.005, 0.01),
    "cr6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "pb": (0.01, 0.01, 0.05, 0.05, 0.1),
    "cn": (0.005, 0.05, 0.2, 0.2, 0.2),
    "phenol": (0.002, 0.002, 0.005, 0.01, 0.1),
    "oil": (0.05, 0.05, 0.05, 0.5, 1.0),
    "las": (0.2, 0.2, 0.2, 0.3, 0.3),
    "s2": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fcoli": (200, 2000, 10000, 20000, 40000),
}
TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
DO = (7.5, 6, 5, 3, 2)
C = ("I", "II", "III", "IV", "V")


def _edges(limits: tuple[float, ...]) -> list[tuple[float, str, str]]:
    """(limit, class of a value equal to it, class of a value just past it) for every class."""
    out = []
    for i, limit in enumerate(limits):
        first = limits.index(limit)  # equal limits: a value at it is the best class that has it
        later = [k for k in range(i + 1, 5) if limits[k] > limit]
        out.append((limit, C[first], C[later[0]] if later else "劣V"))
    return out


def test_every_basic_item_of_table_1_is_in_the_data_with_its_unit() -> None:
    names = {it.name for it in gb3838.items().values()}
    for name in (
        "水温",
        "pH值",
        "溶解氧",
        "高锰酸盐指数",
        "化学需氧量",
        "五日生化需氧量",
        "氨氮",
        "总磷",
        "总氮",
        "铜",
        "锌",
        "氟化物",
        "硒",
        "砷",
        "汞",
        "镉",
        "六价铬",
        "铅",
        "氰化物",
        "挥发酚",
        "石油类",
        "阴离子表面活性剂",
        "硫化物",
        "粪大肠菌群",
    ):
        assert name in names
    assert len(gb3838.items()) == 24
    assert (
        gb3838.item("fcoli").unit == "个/L" and gb3838.item("ph").unit == "无量纲" and gb3838.item("do").unit == "mg/L"
    )
    for code, limits in UPPER.items():
        assert gb3838.item(code).limits == tuple(float(x) for x in limits), code
    assert gb3838.item("tp").limits_lake == TP_LAKE and gb3838.item("do").limits == DO


@pytest.mark.parametrize("code", sorted(UPPER))
def test_each_upper_limit_equal_is_that_class_and_just_above_the_next(code: str) -> None:
    body = "lake" if code == "tn" else "river"
    for limit, at, past in _edges(UPPER[code]):
        assert gb3838.classify_parameter(code, limit, body) == at, (code, limit)
        assert gb3838.classify_parameter(code, limit * 1.001, body) == past, (code, limit)
    assert gb3838.classify_parameter(code, 0, body) == "I"


def test_total_phosphorus_river_and_lake_limits() -> None:
    river = [(0.02, "I", "II"), (0.1, "II", "III"), (0.2, "III", "IV"), (0.3, "IV", "V"), (0.4, "V", "劣V")]
    lake = [(0.01, "I", "II"), (0.025, "II", "III"), (0.05, "III", "IV"), (0.1, "IV", "V"), (0.2, "V", "劣V")]
    for limit, at, past in river:
        assert gb3838.classify_parameter("tp", limit, "river") == at
        assert gb3838.classify_parameter("tp", round(limit + 0.001, 3), "river") == past
    for limit, at, past in lake:
        assert gb3838.classify_parameter("tp", limit, "lake") == at
        assert gb3838.classify_parameter("tp", round(limit + 0.001, 3), "lake") == past
    assert (
        gb3838.classify_parameter("tp", 0.05, "river") == "II"
        and gb3838.classify_parameter("tp", 0.05, "lake") == "III"
    )


def test_dissolved_oxygen_is_reversed() -> None:
    for limit, cls, below in [(7.5, "I", "II"), (6, "II", "III"), (5, "III", "IV"), (3, "IV", "V"), (2, "V", "劣V")]:
        assert gb3838.classify_parameter("do", limit) == cls
        assert gb3838.classify_parameter("do", limit - 0.01) == below
    assert gb3838.classify_parameter("do", 12) == "I" and gb3838.classify_parameter("do", 0) == "劣V"


def test_ph_outside_6_to_9_is_worse_than_v() -> None:
    assert [gb3838.classify_parameter("ph", v) for v in (6, 7.2, 9)] == ["I", "I", "I"]
    assert gb3838.classify_parameter("ph", 5.99) == "劣V" and gb3838.classify_parameter("ph", 9.01) == "劣V"


def test_water_temperature_has_no_class_and_unknown_codes_or_bad_values_are_refused() -> None:
    assert gb3838.classify_parameter("wt", 25) is None
    with pytest.raises(gb3838.UnknownParameter):
        gb3838.classify_parameter("pm25", 1)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            gb3838.classify_parameter("cod", bad)


def test_sample_class_is_the_worst_with_exceeding_items_and_multiples() -> None:
    r = gb3838.classify_sample({"do": 6.5, "codmn": 5.0, "nh3n": 1.8, "tp": 0.45, "wt": 18}, "river", "III")
    assert {k: p.cls for k, p in r.parameters.items()} == {
        "wt": None,
        "do": "II",
        "codmn": "III",
        "nh3n": "V",
        "tp": "劣V",
    }
    assert r.cls == "劣V" and r.meets is False
    assert [(p.code, p.multiple) for p in r.exceeding] == [("nh3n", 0.8), ("tp", 1.25)]  # (1.8-1)/1, (0.45-0.2)/0.2
    assert r.parameters["tp"].limit == 0.2 and r.parameters["codmn"].exceeds is False
    ok = gb3838.classify_sample({"do": 8, "codmn": 2}, "river", "II")
    assert ok.cls == "I" and ok.meets is True and ok.exceeding == []
    at_target = gb3838.classify_sample({"cod": 20}, "river", "III")
    assert at_target.cls == "III" and at_target.meets is True


def test_dissolved_oxygen_and_ph_past_the_target_have_no_multiple() -> None:
    r = gb3838.classify_sample({"do": 2.5, "ph": 9.5}, "river", "III")
    assert r.cls == "劣V" and [(p.code, p.multiple) for p in r.exceeding] == [("ph", None), ("do", None)]


def test_total_nitrogen_counts_for_lakes_only() -> None:
    river = gb3838.classify_sample({"tn": 2.5, "do": 8}, "river", "II")
    assert river.parameters["tn"].cls == "劣V" and river.parameters["tn"].assessed is False
    assert river.cls == "I" and river.meets is True
    lake = gb3838.classify_sample({"tn": 2.5, "do": 8}, "lake", "II")
    assert lake.cls == "劣V" and lake.meets is False and lake.exceeding[0].multiple == 4.0  # (2.5-0.5)/0.5


def test_without_a_target_no_verdict_and_labels_and_colours() -> None:
    r = gb3838.classify_sample({"tp": 0.15}, "river")
    assert r.cls == "III" and r.meets is None and r.exceeding == []
    assert gb3838.LABELS["劣V"] == "劣Ⅴ类" and gb3838.COLOURS["III"] == "#00b050" and gb3838.COLOURS["劣V"] == "#ff0000"
