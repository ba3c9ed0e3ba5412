"""The catalogue in Excel: round trip, a hand-written workbook with the standard's headers, per-row
problems with sheet/row/column, ``skip_bad_rows``, and re-import (new version only when changed)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from countyos.core.errors import ValidationFailed
from countyos.services.models import Matter, MatterStatus
from countyos.services.service import catalogue, excel
from tests.services.conftest import ADMIN, BODY_USCC, guide


def _snapshot(db) -> list[tuple[str, str | None, MatterStatus, int, dict]]:
    with db.reading() as s:
        return [
            (m.code, m.basic_code, m.status, catalogue.current(m).number, catalogue.payload(catalogue.current(m)))
            for m in catalogue.all_matters(s)
        ]


def test_export_then_import_changes_nothing_and_rebuilds_the_same(db, shop) -> None:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        catalogue.create(
            s,
            actor=ADMIN,
            data=guide(
                shop,
                code="X-2",
                name="=HYPERLINK(1)",
                charged=True,
                fee_basis="《行政事业性收费标准》",
                scope="cross_county",
                application_kind="immediate",
                promised_limit=0,
                steps=[],
            ),
        )
    before = _snapshot(db)
    with db.reading() as s:
        data = excel.export_workbook(s)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["事项", "申请材料", "办理流程"]
    headers = [c.value for c in wb["事项"][1]]
    assert headers[:5] == ["事项名称", "基本编码", "实施编码", "事项类型", "行使层级"]
    row = {h: c.value for h, c in zip(headers, wb["事项"][3], strict=True)}
    assert row["事项名称"] == "'=HYPERLINK(1)"  # formula neutralised
    assert row["是否收费"] == "是" and row["通办范围"] == "跨县通办" and row["办件类型"] == "即办件"
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=ADMIN, data=data)
    assert report.ok and report.applied
    assert [(r.code, r.result) for r in report.rows] == [("11331123MB0000001-001", "unchanged"), ("X-2", "unchanged")]
    assert _snapshot(db) == before
    # into an empty catalogue: the same matters, steps, materials and statuses
    with db.unit_of_work() as s:
        for m in s.query(Matter).all():
            m.current_version_id = None
            m.current = None
        s.flush()
        s.query(Matter).delete()
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=ADMIN, data=data)
    assert [r.result for r in report.rows] == ["created", "created"]
    assert _snapshot(db) == before


def _standard_workbook(rows: list[list[object]], materials: list[list[object]], steps: list[list[object]]) -> bytes:
    """A workbook as another county writes it: a title row, codes as numbers and names, 是/否."""
    wb = Workbook()
    ws = wb.active
    ws.title = "政务服务事项实施清单"
    ws.append(["某县政务服务事项实施清单（2026年版）"])
    ws.append(
        ["序号", "事项名称", "基本编码", "实施编码", "事项类型", "行使层级", "实施主体", "实施主体编码",
         "实施主体性质", "法定办结时限", "法定办结时限单位", "承诺办结时限", "承诺办结时限单位", "受理条件",
         "办件类型", "服务对象", "办理形式", "通办范围", "到办事现场次数", "办理地点", "办理时间", "咨询电话",
         "监督电话", "是否收费", "收费依据", "结果名称", "服务主题"]
    )  # fmt: skip
    for r in rows:
        ws.append(r)
    m = wb.create_sheet("材料")
    m.append(["实施编码", "材料名称", "出具机构", "是否必备", "原件份数", "复印件份数", "材料办理说明"])
    for r in materials:
        m.append(r)
    st = wb.create_sheet("流程")
    st.append(["实施编码", "环节名称", "办理部门"])
    for r in steps:
        st.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


ROW = ["1", "个体工商户设立登记", "000201001000", "11331123MB1234567X-001", "07", "县级", "测试市场监督管理局",
       BODY_USCC, "1", 15, "工作日", 1, "工作日", "申请人资料齐全", "即办件", "自然人、其他组织", "1,2,3",
       "跨县通办", 1, "县政务服务中心一楼", "工作日 8:30-17:30", "0578-8123456", 12345, "否", None,
       "营业执照", "市场准入"]  # fmt: skip


def test_a_workbook_written_by_hand_with_the_standards_headers_imports(db, shop) -> None:
    data = _standard_workbook(
        [ROW],
        [["11331123MB1234567X-001", "个体工商户登记申请书", "申请人", "是", 1, 0, "需本人签字"],
         ["11331123MB1234567X-001", "经营场所证明", None, "否", "0", "1", None]],
        [["11331123MB1234567X-001", "受理", "测试政务服务中心"],
         ["11331123MB1234567X-001", "核准发照", "测试市场监督管理局"]],
    )  # fmt: skip
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=ADMIN, data=data)
        assert report.ok, [(p.sheet, p.row, p.column, p.message) for p in report.problems]
        assert [(r.row, r.result) for r in report.rows] == [(3, "created")]
        m = catalogue.get_by_code(s, code="11331123MB1234567X-001")
        v = catalogue.current(m)
        assert m.basic_code == "000201001000" and m.status == MatterStatus.DRAFT
        assert (v.matter_type, v.level, v.body_nature, v.application_kind) == (
            "confirmation", "county", "statutory", "immediate",
        )  # fmt: skip
        assert v.audiences == ["person", "other_org"] and v.handling_forms == ["window", "online_pc", "online_mobile"]
        assert (v.legal_limit, v.promised_limit, v.scope, v.visits, v.charged) == (15, 1, "cross_county", 1, False)
        assert v.supervise_phone == "12345"
        assert [(x.name, x.required, x.originals, x.copies, x.note) for x in v.materials] == [
            ("个体工商户登记申请书", True, 1, 0, "需本人签字"),
            ("经营场所证明", False, 0, 1, None),
        ]
        assert [(x.position, x.name, x.department_id) for x in v.steps] == [
            (1, "受理", shop.centre),
            (2, "核准发照", shop.market),
        ]


def test_a_bad_row_rejects_the_file_with_row_and_column(db, shop) -> None:
    bad = list(ROW)
    bad[3] = "11331123MB1234567X-002"
    bad[4] = "行政许可证"  # no such matter type
    worse = list(ROW)
    worse[3] = "11331123MB1234567X-003"
    worse[7] = "11331123000000101X"  # wrong check character
    data = _standard_workbook(
        [ROW, bad, worse],
        [["11331123MB1234567X-002", "申请书", None, "也许", 1, 0, None], ["NOPE", "申请书", None, "是", 1, 0, None]],
        [["11331123MB1234567X-001", "受理", "没有这个部门"]],
    )
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=ADMIN, data=data)
        found = [(p.sheet, p.row, p.column, p.message) for p in report.problems]
        assert found == [
            ("政务服务事项实施清单", 4, "事项类型", "不是可选项之一：行政许可证"),
            ("政务服务事项实施清单", 5, "实施主体编码", "不是有效的统一社会信用代码"),
            ("材料", 2, "是否必备材料", "请填写“是”或“否”"),
            ("材料", 3, "实施编码", "文件中没有此编码的事项：NOPE"),
            ("流程", 2, "办理部门", "没有此部门：没有这个部门"),
        ]
        assert not report.applied and [r.result for r in report.rows] == ["skipped"] * 3
        assert catalogue.all_matters(s) == []


def test_skip_bad_rows_imports_the_good_ones(db, shop) -> None:
    bad = list(ROW)
    bad[3] = "11331123MB1234567X-002"
    bad[12] = "月"  # no such unit
    data = _standard_workbook([ROW, bad], [], [])
    with db.unit_of_work() as s:
        report = excel.import_workbook(s, actor=ADMIN, data=data, skip_bad_rows=True)
        assert report.applied and [(r.row, r.result) for r in report.rows] == [(3, "created"), (4, "skipped")]
        assert [(p.row, p.column) for p in report.problems] == [(4, "承诺办结时限单位")]
        assert [m.code for m in catalogue.all_matters(s)] == ["11331123MB1234567X-001"]


def test_reimport_with_changes_makes_a_new_version(db, shop) -> None:
    with db.unit_of_work() as s:
        excel.import_workbook(s, actor=ADMIN, data=_standard_workbook([ROW], [], []))
    changed = list(ROW)
    changed[11] = 3
    with db.unit_of_work() as s:
        report = excel.import_workbook(
            s, actor=ADMIN, data=_standard_workbook([changed, [*ROW[:3], "Y", *ROW[4:]]], [], [])
        )
        assert [r.result for r in report.rows] == ["new_version", "created"]
        m = catalogue.get_by_code(s, code="11331123MB1234567X-001")
        assert catalogue.current(m).number == 2 and catalogue.current(m).promised_limit == 3
        assert [v.promised_limit for v in catalogue.versions(s, matter_id=m.id)] == [3, 1]


def test_a_file_that_is_no_workbook_is_refused(db) -> None:
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        excel.import_workbook(s, actor=ADMIN, data=b"not a workbook")
