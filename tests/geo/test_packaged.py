import pytest

from countyos.core.errors import NotFound, ValidationFailed
from countyos.geo.service import packaged


@pytest.mark.parametrize(
    "code,name,first_township",
    [
        ("331123", "遂昌县", ("331123001", "妙高街道")),  # 浙江
        ("110101", "东城区", ("110101001", "东华门街道")),  # 北京
        ("440305", "南山区", None),  # 广东
        ("650102", "天山区", None),  # 新疆
        ("540102", "城关区", None),  # 西藏
        ("441900", "东莞市", None),  # a city without counties
    ],
)
def test_packaged_counties_of_several_provinces(code, name, first_township):
    c = packaged.county(code)
    assert c.name == name
    assert c.townships and c.villages
    assert all(t.startswith(code) and len(t) == 9 for t, _ in c.townships)
    assert all(v[:9] in {t for t, _ in c.townships} and len(v) == 12 for v, _ in c.villages)
    if first_township:
        assert c.townships[0] == first_township
    assert packaged.county_boundary(code) is not None


def test_unknown_code_says_so():
    with pytest.raises(NotFound) as err:
        packaged.county("339999")
    assert "339999" in err.value.message


@pytest.mark.parametrize("bad", ["33112", "3311234", "abcdef", ""])
def test_malformed_code(bad):
    with pytest.raises(ValidationFailed):
        packaged.county(bad)


def test_development_zone_has_names_but_no_packaged_boundary():
    assert packaged.county("130171").townships
    assert packaged.county_boundary("130171") is None


def test_directory_has_the_standard_counts():
    assert len(packaged.component_classes()) == 153
    assert len(packaged.matter_classes()) == 250
    assert packaged.component_classes()["04001"].name == "古树名木"
    assert packaged.component_classes()["01037"].major_name == "市政公用设施"
