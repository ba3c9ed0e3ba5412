from countyos.core.namesearch import best, name_quality, pinyin_of


def q(name: str, typed: str) -> int | None:
    initials, spelled = pinyin_of(name)
    return name_quality(name, initials, spelled, typed, typed.lower())


def test_pinyin_of_a_name_is_its_initials_and_its_spelling():
    assert pinyin_of("营业执照") == ("yyzz", "yingyezhizhao")
    assert pinyin_of("农村宅基地审批（新建）") == ("nczjdspxj", "nongcunzhaijidishenpixinjian")


def test_the_name_itself_beats_a_prefix_beats_pinyin_beats_a_part():
    assert q("营业执照", "营业执照") == 0
    assert q("营业执照", "营业") == 1
    assert q("营业执照", "YYZZ") == 1
    assert q("营业执照", "yy") == 2
    assert q("营业执照", "yingye") == 2
    assert q("营业执照", "执照") == 3
    assert q("营业执照", "yz") == 4
    assert q("营业执照", "zhizhao") == 4
    assert q("营业执照", "zh") is None  # two letters inside the spelling are too loose
    assert q("营业执照", "许可") is None


def test_best_takes_the_lowest_that_matched():
    assert best(None, 3, 5) == 3
    assert best(None, None) is None
    assert best(0, None) == 0
