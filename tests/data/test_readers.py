"""Reading departments' files: each format written here the way a department's system writes it, read
back into named, typed columns and text rows; codes keep their leading zeros; bad files are refused."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
import shapefile
from openpyxl import Workbook
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion

from countyos.data.codes import FieldType
from countyos.data.service import readers
from countyos.data.service.readers import FileRefused, convert, open_file

T = FieldType


def _types(read: readers.ReadFile) -> dict[str, FieldType]:
    return {c.name: c.type for c in read.columns}


def test_a_gbk_csv_gets_positional_names_for_chinese_headers_and_keeps_the_labels(tmp_path: Path) -> None:
    text = (
        "姓名,身份证号,手机,区划代码,年龄,身高,出生日期,是否党员\n"
        "张三,11010519491231002X,13812345678,330000,30,1.75,20240501,是\n"
        "李四,331125196001011236,13987654321,330100,41,1.6,20240502,否\n"
    )
    (tmp_path / "people.csv").write_bytes(text.encode("gbk"))

    read = open_file(tmp_path / "people.csv", filename="人员.csv")

    assert read.format == "csv"
    assert [c.name for c in read.columns] == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
    assert [c.label for c in read.columns] == [
        "姓名",
        "身份证号",
        "手机",
        "区划代码",
        "年龄",
        "身高",
        "出生日期",
        "是否党员",
    ]
    assert [c.type for c in read.columns] == [T.TEXT, T.TEXT, T.TEXT, T.TEXT, T.INTEGER, T.NUMBER, T.DATE, T.BOOLEAN]
    assert read.columns[1].max_length == 18
    assert next(read.rows()) == [
        "张三",
        "11010519491231002X",
        "13812345678",
        "330000",
        "30",
        "1.75",
        "20240501",
        "是",
    ]


def test_a_utf8_csv_with_bom_and_semicolons(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes("\ufeffName;Order;Amount\n 王五 ;1;2,5\n赵六;2;\n".encode())

    read = open_file(tmp_path / "a.csv", filename="a.csv")

    assert [(c.name, c.label) for c in read.columns] == [("name", "Name"), ("order_", "Order"), ("amount", "Amount")]
    assert _types(read) == {"name": T.TEXT, "order_": T.INTEGER, "amount": T.TEXT}  # 2,5 is not a number here
    assert list(read.rows()) == [["王五", "1", "2,5"], ["赵六", "2", None]]


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_tab_and_pipe_delimiters_are_found(tmp_path: Path, delimiter: str) -> None:
    (tmp_path / "a.txt").write_text(delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join(["1", "x,y", "3"]) + "\n")
    read = open_file(tmp_path / "a.txt", filename="a.txt")
    assert list(read.rows()) == [["1", "x,y", "3"]]


def test_codes_with_leading_zeros_phone_and_id_numbers_stay_text(tmp_path: Path) -> None:
    rows = [
        ("区号", "行政区划代码", "联系电话", "证件号码", "long", "count", "code", "人数"),
        ("0570", "330000", "13812345678", "110105194912310021", "1234567890123456", "7", "330100", "12"),
        ("0571", "330100", "15900001111", "331125196001011236", "1234567890123457", "8", "330200", "-3"),
    ]
    (tmp_path / "codes.csv").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")

    read = open_file(tmp_path / "codes.csv", filename="codes.csv")

    assert [c.type for c in read.columns] == [T.TEXT, T.TEXT, T.TEXT, T.TEXT, T.TEXT, T.INTEGER, T.TEXT, T.INTEGER]
    assert next(read.rows())[:2] == ["0570", "330000"]


def test_dates_in_chinese_forms_and_eight_digits_only_under_a_date_header(tmp_path: Path) -> None:
    rows = [
        ("填报日期", "batch", "开始", "登记时间"),
        ("20240501", "20240501", "2024/5/1", "2024-05-01 08:30"),
        ("20240229", "20240229", "2024年5月2日", "2024/5/2 9:00:01"),
    ]
    (tmp_path / "d.csv").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")

    read = open_file(tmp_path / "d.csv", filename="d.csv")

    assert [c.type for c in read.columns] == [T.DATE, T.INTEGER, T.DATE, T.DATETIME]


def test_rows_are_read_again_each_time_with_their_numbers_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("\n\na,b,c\n1,2\n\n,,\n4,5,6,\n", encoding="utf-8")

    read = open_file(tmp_path / "a.csv", filename="a.csv")

    assert list(read.rows()) == [["1", "2", None], ["4", "5", "6"]]
    assert list(read.rows()) == list(read.rows())
    assert list(read.numbered_rows()) == [(1, ["1", "2", None]), (4, ["4", "5", "6"])]


def test_odd_headers_become_safe_unique_names() -> None:
    labels = ["Name", "name", "", "1st Place", "_hidden", "select", "xmin", "人口", "c8", "a" * 80]
    names = readers.safe_names(labels)
    assert names == ["name", "name_2", "c3", "c_1st_place", "hidden", "select_", "xmin_", "c8", "c8_2", "a" * 63]
    assert all(len(n) <= 63 and n[0].isalpha() and n.isascii() for n in names)


def test_an_xlsx_first_sheet_with_typed_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "年龄", "出生日期", "编号", "登记时间", "金额"])
    sheet.append(["张三", 30, datetime(1990, 1, 2), "0570", datetime(2024, 5, 1, 8, 30), 12.5])
    sheet.append(["李四", 41, datetime(1983, 7, 9), "0571", datetime(2024, 5, 2, 9, 0), 3])
    book.create_sheet("其他").append(["ignored"])
    book.save(tmp_path / "a.xlsx")

    read = open_file(tmp_path / "a.xlsx", filename="a.xlsx")

    assert read.format == "xlsx"
    assert [c.label for c in read.columns] == ["姓名", "年龄", "出生日期", "编号", "登记时间", "金额"]
    assert [c.type for c in read.columns] == [T.TEXT, T.INTEGER, T.DATE, T.TEXT, T.DATETIME, T.NUMBER]
    assert next(read.rows()) == ["张三", "30", "1990-01-02", "0570", "2024-05-01 08:30:00", "12.5"]


def test_json_as_an_array_of_objects(tmp_path: Path) -> None:
    records = [{"名称": "甲", "count": 3, "ok": True, "tags": ["a", "b"]}, {"名称": "乙", "count": 4, "extra": None}]
    (tmp_path / "a.json").write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")

    read = open_file(tmp_path / "a.json", filename="a.json")

    assert read.format == "json"
    assert [(c.name, c.label, c.type) for c in read.columns] == [
        ("c1", "名称", T.TEXT),
        ("count", "count", T.INTEGER),
        ("ok", "ok", T.BOOLEAN),
        ("tags", "tags", T.TEXT),
        ("extra", "extra", T.TEXT),
    ]
    assert list(read.rows()) == [["甲", "3", "true", '["a","b"]', None], ["乙", "4", None, None, None]]


def test_json_as_an_object_with_one_array_of_records(tmp_path: Path) -> None:
    records = [{"id": n, "name": f"第{n}条"} for n in range(1, 3001)]  # past the stream's first read
    body = {"code": 0, "msg": "成功", "ids": [1, 2], "empty": [], "records": records, "total": 3000}
    (tmp_path / "a.json").write_text(json.dumps(body, ensure_ascii=False) + " " * 2_000_000, encoding="utf-8")

    read = open_file(tmp_path / "a.json", filename="a.json")

    assert [c.name for c in read.columns] == ["id", "name"]
    rows = list(read.rows())
    assert len(rows) == 3000 and rows[-1] == ["3000", "第3000条"]


@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_json_records_are_found_wherever_the_reads_cut_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(readers.jsonfiles, "CHUNK", chunk)  # where the JSON stream reads
    records = [{"a": n, "b": "中文" * (n % 3), "c": [1, {"x": n}]} for n in range(20)]
    body = {"code": 0, "msg": "ok", "nums": [1, 2], "empty": [], "data": records, "total": 20}
    (tmp_path / "a.json").write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")

    rows = list(open_file(tmp_path / "a.json", filename="a.json").rows())

    assert len(rows) == 20
    assert rows[7] == ["7", "中文", '[1,{"x":7}]']


def test_geojson_properties_become_columns_and_the_geometry_one_compact_column(tmp_path: Path) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"名称": "甲站", "geometry": "x", "level": 2},
                "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
            },
            {"type": "Feature", "properties": {"名称": "乙站"}, "geometry": None},
        ],
    }
    (tmp_path / "a.geojson").write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")

    read = open_file(tmp_path / "a.geojson", filename="a.geojson")

    assert read.format == "geojson"
    assert [(c.name, c.type) for c in read.columns] == [
        ("c1", T.TEXT),
        ("geometry_2", T.TEXT),
        ("level", T.INTEGER),
        ("geometry", T.GEOMETRY),
    ]
    rows = list(read.rows())
    assert rows[0] == ["甲站", "x", "2", '{"type":"Point","coordinates":[120.1,30.2]}']
    assert rows[1] == ["乙站", None, None, None]


def test_old_geojson_naming_a_projected_crs_is_reprojected(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 4549, always_xy=True).transform(120.5, 30.2)
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
        "features": [{"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [x, y]}}],
    }
    (tmp_path / "a.geojson").write_text(json.dumps(collection))

    (row,) = open_file(tmp_path / "a.geojson", filename="a.geojson").rows()

    assert row[1] is not None
    assert json.loads(row[1])["coordinates"] == pytest.approx([120.5, 30.2], abs=1e-6)


def _zipped_shapefile(tmp_path: Path, *, encoding: str, cpg: str | None) -> tuple[Path, list[tuple[float, float]]]:
    places = [(120.5, 30.2), (120.61234567, 30.05)]
    to_gk = Transformer.from_crs(4326, 4549, always_xy=True)
    base = tmp_path / "stations"
    with shapefile.Writer(str(base), shapeType=shapefile.POINT, encoding=encoding) as w:
        w.field("名称", "C", size=20)
        w.field("CODE", "C", size=10)
        w.field("HEIGHT", "N", size=8, decimal=2)
        for n, (lon, lat) in enumerate(places):
            w.point(*to_gk.transform(lon, lat))
            w.record(f"监测站{n}", f"057{n}", 12.5 + n)
    (tmp_path / "stations.prj").write_text(CRS.from_epsg(4549).to_wkt(WktVersion.WKT1_ESRI))
    if cpg:
        (tmp_path / "stations.cpg").write_text(cpg)
    target = tmp_path / "stations.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            if (tmp_path / f"stations.{ext}").exists():
                zf.write(tmp_path / f"stations.{ext}", f"站点/stations.{ext}")
    return target, places


@pytest.mark.parametrize(("encoding", "cpg"), [("utf-8", "UTF-8"), ("gbk", None), ("gbk", "936")])
def test_a_zipped_shapefile_in_cgcs2000_gauss_kruger_is_read_back_in_wgs84(
    tmp_path: Path, encoding: str, cpg: str | None
) -> None:
    target, places = _zipped_shapefile(tmp_path, encoding=encoding, cpg=cpg)

    read = open_file(target, filename="站点.zip")

    assert read.format == "shapefile"
    assert [(c.name, c.label, c.type) for c in read.columns] == [
        ("c1", "名称", T.TEXT),
        ("code", "CODE", T.TEXT),
        ("height", "HEIGHT", T.NUMBER),
        ("geometry", "geometry", T.GEOMETRY),
    ]
    rows = list(read.rows())
    assert [r[:3] for r in rows] == [["监测站0", "0570", "12.5"], ["监测站1", "0571", "13.5"]]
    for row, (lon, lat) in zip(rows, places, strict=True):
        assert row[3] is not None
        point = json.loads(row[3])
        assert point["type"] == "Point"
        assert point["coordinates"][0] == pytest.approx(lon, abs=1e-6)
        assert point["coordinates"][1] == pytest.approx(lat, abs=1e-6)


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("layer.shp", b"\0" * (readers.RATIO_FROM + 4 * 1024**2))
        zf.writestr("layer.dbf", b"")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(FileRefused, match="expands"):
        open_file(bomb, filename="bomb.zip")


def test_a_zip_of_too_many_members_is_refused(tmp_path: Path) -> None:
    crowded = tmp_path / "crowded.zip"
    with zipfile.ZipFile(crowded, "w") as zf:
        for n in range(readers.MAX_ZIP_MEMBERS + 1):
            zf.writestr(f"f{n}.txt", "x")
    with pytest.raises(FileRefused, match="more than 20 files"):
        open_file(crowded, filename="crowded.zip")


def test_a_zip_claiming_more_than_the_bound_in_all_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers.base, "MAX_UNCOMPRESSED", 1000)  # where check_zip reads it
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", io.BytesIO(bytes(range(256)) * 4).getvalue())
        zf.writestr("a.dbf", b"")
    with pytest.raises(FileRefused, match="expands to more than"):
        open_file(big, filename="big.zip")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", b'[{"a": 1}, {"a": 2', "malformed"),
        ("a.json", b'{"a": 1}', "not an array of records"),
        ("a.json", b"[1, 2, 3]", "must be an object"),
        ("a.geojson", b"", "not an array of records"),
        ("a.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feature"', "malformed"),
        ("a.xlsx", b"PK\x03\x04 not really a workbook", "not a valid zip"),
        ("a.xlsx", b"plain text", "not a valid zip"),
        ("a.zip", b"\x00\x01", "not a valid zip"),
        ("a.csv", b"", "no header"),
        ("a.csv", b"a,b\n1,\x002\n", "NUL"),
        ("a.csv", b"a,b\n1," + b"x" * 200_000 + b"\n", "damaged"),
        ("a.csv", b"a,b\n\x80\x80,\xff\n", "not text in UTF-8 or GBK"),
        ("a.csv", b"PK\x03\x04....", "zip or Excel"),
        ("a.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
        ("a.docx", b"x", "cannot be read"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(FileRefused, match=message) as refused:
        open_file(tmp_path / name, filename=name)
    assert refused.value.status == 422 and refused.value.message  # a CountyError: shown to the person


def test_a_damaged_workbook_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<not-xml")
    with pytest.raises(FileRefused, match="damaged"):
        open_file(tmp_path / "a.xlsx", filename="a.xlsx")


def test_a_zip_without_a_shapefile_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(FileRefused, match="no Shapefile"):
        open_file(tmp_path / "a.zip", filename="a.zip")


def test_too_many_columns_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a,b,c\n1,2,3\n")
    assert len(open_file(tmp_path / "a.csv", filename="a.csv", max_columns=3).columns) == 3
    with pytest.raises(FileRefused, match="more than 2 columns"):
        open_file(tmp_path / "a.csv", filename="a.csv", max_columns=2)
    (tmp_path / "b.csv").write_text("a,b\n1,2\n3,4,5\n")  # a data row wider than its header
    with pytest.raises(FileRefused, match="more than 2 columns"):
        open_file(tmp_path / "b.csv", filename="b.csv", max_columns=2)


def test_convert_turns_text_into_the_column_type() -> None:
    assert convert("42", T.INTEGER) == 42
    assert convert("-7", T.NUMBER) == -7.0
    assert convert("2.5e3", T.NUMBER) == 2500.0
    assert convert("2024-05-01", T.DATE) == date(2024, 5, 1)
    assert convert("2024/5/1", T.DATE) == date(2024, 5, 1)
    assert convert("2024年5月1日", T.DATE) == date(2024, 5, 1)
    assert convert("20240501", T.DATE) == date(2024, 5, 1)
    assert convert("2024-05-01 08:30:15", T.DATETIME) == datetime(2024, 5, 1, 8, 30, 15)
    assert convert("2024-05-01T00:30:00Z", T.DATETIME) == datetime(2024, 5, 1, 8, 30)  # kept in UTC+8
    assert convert("2024/5/1 8:30", T.DATETIME) == datetime(2024, 5, 1, 8, 30)
    assert convert("2024-05-01", T.DATETIME) == datetime(2024, 5, 1)
    assert convert("是", T.BOOLEAN) is True
    assert convert("FALSE", T.BOOLEAN) is False
    assert convert("0570", T.TEXT) == "0570"
    assert convert(None, T.INTEGER) is None
    assert convert("", T.DATE) is None


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("1.5", T.INTEGER, "Not a whole number"),
        ("1_000", T.INTEGER, "Not a whole number"),
        ("１２", T.INTEGER, "Not a whole number"),
        ("99999999999999999999", T.INTEGER, "Not a whole number"),
        ("nan", T.NUMBER, "Not a number"),
        ("abc", T.NUMBER, "Not a number"),
        ("2024-02-30", T.DATE, "Not a date"),
        ("2024-05-01 08:00", T.DATE, "Not a date"),
        ("yesterday", T.DATETIME, "Not a date and time"),
        ("maybe", T.BOOLEAN, "Not true or false"),
        ("POINT (1 2)", T.GEOMETRY, "Not a GeoJSON geometry"),
    ],
)
def test_convert_refuses_a_value_not_of_the_type(value: str, kind: FieldType, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        convert(value, kind)
