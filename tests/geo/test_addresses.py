from countyos.geo.models import DivisionLevel
from countyos.geo.service import locate, place_address
from countyos.geo.service.addresses import aliases


def test_aliases_are_the_names_people_write():
    assert aliases("东红村委会") == {"东红村委会", "东红村"}
    assert aliases("北隅社区") == {"北隅社区"}
    assert aliases("大柘镇居民委员会") == {"大柘镇居民委员会", "大柘镇社区", "大柘镇居委会"}
    assert aliases("苏村委会") == {"苏村委会", "苏村"}


def test_an_address_is_placed_in_the_village_it_names(db, county):
    with db.reading() as s:
        got = place_address(s, text="浙江省丽水市遂昌县妙高街道 东红村 12号门口")
        assert got is not None and got.code == "331123001200" and got.level == DivisionLevel.VILLAGE
        assert not got.precise
        assert locate(s, lon=got.lon, lat=got.lat).village_code == "331123001200"


def test_the_township_named_settles_a_village_name_found_twice(db, county):
    with db.reading() as s:
        # "王村" is a village of another township and part of the town name 王村口镇, where 桥东村 is
        got = place_address(s, text="王村口镇桥东村村口")
        assert got is not None and got.code == "331123107224"
        assert place_address(s, text="古院社区菜场").code == "331123001014"
        assert place_address(s, text="古院村后山").code == "331123001204"


def test_a_township_alone_places_the_township_and_nothing_named_places_nothing(db, county):
    with db.reading() as s:
        got = place_address(s, text="大柘镇")
        assert got is not None and got.level == DivisionLevel.TOWNSHIP and got.code == "331123105"
        assert locate(s, lon=got.lon, lat=got.lat).township_code == "331123105"
        assert place_address(s, text="人民路88号") is None
        assert place_address(s, text="   ") is None
