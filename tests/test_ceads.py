"""The CEADs loader reads by a declared layout: the six shared cases, every layout variant (read
right or refused naming the file and the cell, column or field), units, city lists, years, imports
and balances; and the fake CEADs directory reads back to the synthetic world."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import scipy.io
import scipy.sparse

from intercity import mrio, paths
from intercity.sources import ceads, fetch

def _cases_dir() -> Path | None:
    """``shared/cases/ceads`` beside the data mirror or beside the checkout (as CI lays it)."""
    mirror = fetch.default_mirror()
    cands = ([mirror.parent / "cases" / "ceads"] if mirror else []) + [
        paths.PROJECT_ROOT.parent / "shared" / "cases" / "ceads"]
    return next((c for c in cands if c.is_dir()), None)


CASES = _cases_dir()
#: The six shared inputs (README of shared/cases/ceads); under CI they must be there.
CASE_NAMES = ("blank_cell.xlsx", "labels_name_and_code.xlsx", "one_city_one_category.mat", "sparse_Z.mat",
              "subtotal_column.xlsx", "trailing_import_other.xlsx")
needs_cases = pytest.mark.skipif(CASES is None and not os.environ.get("CI"),
                                 reason="shared/cases/ceads not found beside the mirror or the checkout")


def _expected(name: str) -> dict:
    return json.loads((CASES / "expected.json").read_text())[name]


TWO = ("01", "02")
CASE_LAYOUT = ceads.Layout(sectors=TWO, fd_categories=("Rural consumption", "Urban consumption"))


# ------------------------------------------------------------------------------------------
# the six shared cases


@needs_cases
@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_read_as_expected(name):
    e = _expected(name)
    lay = CASE_LAYOUT if name.endswith(".xlsx") else ceads.Layout(sectors=TWO)
    t = ceads.read(CASES / name, e["cities"], lay)
    assert t.mrio.cities == tuple(e["cities"])
    assert t.mrio.sectors == tuple(e["sectors"])
    np.testing.assert_array_equal(t.mrio.Z, e["Z"])
    np.testing.assert_array_equal(t.mrio.F[:, 0], e["F_summed"])


@needs_cases
@pytest.mark.parametrize("name", [n for n in CASE_NAMES if n.endswith(".xlsx")])
def test_case_read_with_default_final_demand_vocabulary(name):
    """Without declared categories the final-demand vocabulary finds the same columns."""
    e = _expected(name)
    t = ceads.read(CASES / name, None, ceads.Layout(sectors=TWO))  # cities from the label column
    assert t.mrio.cities == tuple(e["cities"])
    np.testing.assert_array_equal(t.mrio.Z, e["Z"])
    np.testing.assert_array_equal(t.mrio.F[:, 0], e["F_summed"])


@needs_cases
def test_blank_cell_reported_by_cell_or_refused():
    t = ceads.read(CASES / "blank_cell.xlsx", ["110000"], CASE_LAYOUT)
    assert [n.where for n in t.report.of("blank_cell")] == ["sheet 'Sheet1'!C6"]
    with pytest.raises(ceads.CEADSError, match=r"blank_cell.xlsx: sheet 'Sheet1', cell C6: blank cell in intermediate use"):
        ceads.read(CASES / "blank_cell.xlsx", ["110000"], ceads.Layout(sectors=TWO, blank="refuse"))


@needs_cases
def test_trailing_import_and_other_columns():
    t = ceads.read(CASES / "trailing_import_other.xlsx", ["110000"], CASE_LAYOUT)
    assert [n.where for n in t.report.of("dropped_column")] == ["column H 'Import'"]
    np.testing.assert_allclose(t.other, [0.2, 0.1])  # the balancing column enters gross output
    np.testing.assert_allclose(t.mrio.x, [1 + 2 + 10.5 + 1 + 0.2, 3 + 4 + 20.5 + 1 + 0.1])
    # declared competitive: the import column is removed from every use in proportion
    comp = ceads.read(CASES / "trailing_import_other.xlsx", ["110000"],
                      ceads.Layout(sectors=TWO, fd_categories=CASE_LAYOUT.fd_categories, imports="column"))
    Zd, Fd = mrio.remove_imports_proportional(np.array([[1.0, 2], [3, 4]]), np.array([[10, 0.5], [20, 0.5]]),
                                              np.array([3.0, 4.0]))
    np.testing.assert_allclose(comp.mrio.Z, Zd)
    np.testing.assert_allclose(comp.mrio.F[:, 0], Fd.sum(axis=1))
    np.testing.assert_allclose(comp.mrio.x, t.mrio.x - [3, 4])


# ------------------------------------------------------------------------------------------
# hand-made layouts


def _book(path, rows, sheet="Sheet1"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


Z2 = np.array([[1.0, 2, 0.5, 0.1], [3, 4, 0.2, 0.3], [0.4, 0.6, 5, 6], [0.7, 0.8, 7, 8]])
F2 = np.array([[10.0, 1, 2, 3], [20, 1, 2, 3], [1, 2, 30, 4], [1, 2, 40, 4]])  # city-major, K=2
E2 = np.array([1.0, 2, 3, 4])
CITIES2 = ("北京市", "天津市")
IDS2 = ("110000", "120000")


def _two_city_rows(label_order=("城市", "部门代码"), extra_cols=(), extra_vals=None, header_rows=4):
    """A 2-city x 2-sector table with label columns in ``label_order``."""
    codes, names = ["01", "02"], ["农林牧渔产品和服务", "煤炭采选产品"]
    lab = {"城市": lambda k: CITIES2[k // 2], "部门代码": lambda k: codes[k % 2], "部门名称": lambda k: names[k % 2]}
    head = [[""] * (len(label_order) + 4 + 4 + 1 + len(extra_cols)) for _ in range(header_rows)]
    head[0][0] = "城市多区域投入产出表"
    last = head[-1]
    last[: len(label_order)] = list(label_order)
    L = len(label_order)
    last[L + 4: L + 8] = ["农村居民消费", "城镇居民消费"] * 2
    last[L + 8] = "出口"
    for j, hx in enumerate(extra_cols):
        last[L + 9 + j] = hx
    body = []
    for k in range(4):
        row = [lab[h](k) for h in label_order] + list(Z2[k]) + list(F2[k]) + [E2[k]]
        if extra_vals is not None:
            row += list(extra_vals[k])
        body.append(row)
    return head + body


def _two_city_layout(**kw):
    return ceads.Layout(sectors=TWO, fd_categories=("农村居民消费", "城镇居民消费"), **kw)


def _check_two(t):
    np.testing.assert_array_equal(t.mrio.Z, Z2)
    np.testing.assert_array_equal(t.mrio.F, F2.reshape(4, 2, 2).sum(axis=2))
    np.testing.assert_allclose(t.mrio.x, Z2.sum(1) + F2.sum(1) + E2)
    assert t.mrio.cities == IDS2


@pytest.mark.parametrize("order", [("城市", "部门代码"), ("部门代码", "城市"), ("部门名称", "城市", "部门代码"),
                                   ("城市", "部门名称")])
def test_label_columns_found_by_header_in_any_order(tmp_path, order):
    path = _book(tmp_path / "t.xlsx", _two_city_rows(order))
    t = ceads.read(path, list(CITIES2), _two_city_layout())
    _check_two(t)
    if "部门名称" in order:
        assert t.sector_labels == ("农林牧渔产品和服务", "煤炭采选产品")
    else:
        assert t.sector_labels == TWO


def test_subtotal_and_total_columns_are_not_final_demand(tmp_path):
    extra = np.column_stack([F2[:, :2].sum(1), F2.sum(1) + E2, Z2.sum(1) + F2.sum(1) + E2])
    rows = _two_city_rows(extra_cols=("北京市最终使用小计", "最终使用合计", "总产出"), extra_vals=extra)
    t = ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())
    _check_two(t)
    assert len(t.report.of("dropped_column")) == 2
    assert t.report.of("balance_row")[0].message.endswith("balanced within rtol 1e-06")


def test_unrecognised_column_is_refused_naming_it(tmp_path):
    rows = _two_city_rows(extra_cols=("Memo",), extra_vals=np.ones((4, 1)))
    with pytest.raises(ceads.CEADSError, match=r"t.xlsx: sheet 'Sheet1', column L: header 'Memo' is not recognised"):
        ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())


def test_label_column_without_a_known_header_is_refused(tmp_path):
    rows = _two_city_rows()
    rows[3][0] = "Place"
    with pytest.raises(ceads.CEADSError, match=r"sheet 'Sheet1', column A: no label column found by header"):
        ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())


def test_row_labels_are_checked_against_the_city_list_and_sectors(tmp_path):
    path = _book(tmp_path / "t.xlsx", _two_city_rows())
    with pytest.raises(ceads.CEADSError, match=r"cell A5: city label '北京市' is not city #1 of the city list \(120000\)"):
        ceads.read(path, ["天津市", "北京市"], _two_city_layout())
    rows = _two_city_rows()
    rows[6][1] = "03"
    with pytest.raises(ceads.CEADSError, match=r"cell B7: sector code '03' where the declared sector list has '01'"):
        ceads.read(_book(tmp_path / "u.xlsx", rows), list(IDS2), _two_city_layout())
    # the file has a city more than the list: the list is blamed, with both counts
    with pytest.raises(ceads.CEADSError, match=r"the city list has 1 cities while the table has rows for 2 "
                                               r"\(sheet 'Sheet1', column A: 2 blocks of 2 rows"):
        ceads.read(path, ["北京市"], _two_city_layout())


def test_text_in_a_number_cell_is_refused_naming_it(tmp_path):
    rows = _two_city_rows()
    rows[5][4] = "n/a"
    with pytest.raises(ceads.CEADSError, match=r"t.xlsx: sheet 'Sheet1', cell E6: intermediate use \(Z\) holds 'n/a'"):
        ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())


def test_import_value_added_rows_and_balances(tmp_path):
    x = Z2.sum(1) + F2.sum(1) + E2
    im = np.array([0.5, 0.5, 1.0, 1.0])
    va = x - Z2.sum(0) - im
    rows = _two_city_rows(extra_cols=("总产出",), extra_vals=x[:, None])
    rows.append(["进口", ""] + list(im))
    rows.append(["劳动者报酬", ""] + list(va * 0.6))
    rows.append(["营业盈余", ""] + list(va * 0.4))
    rows.append(["增加值合计", ""] + list(va))
    rows.append(["总投入", ""] + list(x))
    t = ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())
    _check_two(t)
    np.testing.assert_allclose(t.imports, im)
    np.testing.assert_allclose(t.value_added, va)
    assert not t.report.of("balance_column_summary") and not t.report.of("balance_row_summary")
    # one (city, sector) off: reported by name, or refused
    rows[-3][2 + 3] += 1.0  # 营业盈余 of Tianjin sector 02
    path = _book(tmp_path / "u.xlsx", rows)
    t = ceads.read(path, list(IDS2), _two_city_layout())
    assert [n.where for n in t.report.of("balance_column") if n.where != "all columns"] == ["city 120000 sector 02"]
    with pytest.raises(ceads.CEADSError, match=r"u.xlsx: column balance: gross output vs 1'Z \+ VA \+ IM does not "
                                                r"balance for 1 of 4 \(city, sector\); largest at city 120000 sector 02"):
        ceads.read(path, list(IDS2), _two_city_layout(balance="refuse"))


def test_negative_final_demand_is_kept(tmp_path):
    rows = _two_city_rows()
    rows[4][2 + 4 + 1] = -2.5  # an inventory drawdown
    t = ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())
    assert t.F_categories[0, 0, 1] == -2.5
    assert t.mrio.F[0, 0] == F2[0, 0] - 2.5
    assert t.report.of("negative_final_demand")


def test_column_city_row_is_checked(tmp_path):
    rows = _two_city_rows()
    rows[1][2:6] = ["北京市", "北京市", "天津市", "天津市"]
    rows[1][6:10] = ["北京", "北京", "天津市", "天津市"]  # a short name is the same city
    ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout(column_city_row=2))
    rows[1][4] = "上海市"
    with pytest.raises(ceads.CEADSError, match=r"cell E2: column city '上海市' over intermediate use of city #2"):
        ceads.read(_book(tmp_path / "u.xlsx", rows), list(IDS2), _two_city_layout(column_city_row=2))


# ------------------------------------------------------------------------------------------
# .mat


def _mat(path, **fields):
    scipy.io.savemat(path, {"MRIO": fields})
    return path


def test_mat_sparse_fields_and_shapes(tmp_path):
    path = _mat(tmp_path / "m.mat", Z=scipy.sparse.csc_matrix(Z2), F=scipy.sparse.csr_matrix(F2),
                Export=E2[None, :], VA=(Z2.sum(1) + F2.sum(1) + E2 - Z2.sum(0))[None, :])
    t = ceads.read(path, list(IDS2), ceads.Layout(sectors=TWO))
    _check_two(t)
    assert {n.kind for n in t.report.notes} >= {"sparse", "transposed"}
    assert not t.report.of("balance_column_summary")


def test_mat_one_city_one_category(tmp_path):
    path = _mat(tmp_path / "m.mat", Z=np.array([[1.0, 2], [3, 4]]), F=np.array([[10.5], [20.5]]))
    t = ceads.read(path, ["110000"], ceads.Layout(sectors=TWO))
    np.testing.assert_array_equal(t.mrio.F, [[10.5], [20.5]])
    assert t.categories == ("category 1",)


def test_mat_errors_name_file_field_and_place(tmp_path):
    Z, F = Z2, F2
    p = tmp_path / "bad.mat"
    cases = [
        (dict(Z=Z), r"bad.mat: MRIO lacks field F \(has \['Z'\]\)"),
        (dict(Z=Z[:3, :3], F=F), r"bad.mat: field MRIO.Z has shape \(3, 3\); expected 4 x 4 \(2 cities x 2 sectors\)"),
        (dict(Z=np.where(np.eye(4) > 0, np.nan, Z), F=F), r"bad.mat: field MRIO.Z holds a non-finite value \(nan\) at row 1, column 1"),
        (dict(Z=Z, F=F[:, :3]), r"bad.mat: field MRIO.F has 3 columns, not a multiple of the 2 cities"),
        (dict(Z=Z, F=F, IM=np.ones((4, 1))), r"bad.mat: field MRIO.IM has shape \(4, 1\): a column, but the layout declares it as rows"),
        (dict(Z=Z, F=F, IM=np.ones((1, 4)), Import=np.ones((1, 4))), r"bad.mat: fields \['IM', 'Import'\] of MRIO both play the role 'IM'"),
    ]
    for fields, msg in cases:
        _mat(p, **fields)
        with pytest.raises(ceads.CEADSError, match=msg):
            ceads.read(p, list(IDS2), ceads.Layout(sectors=TWO))
    scipy.io.savemat(p, {"other": Z})
    with pytest.raises(ceads.CEADSError, match=r"bad.mat: no struct 'MRIO' \(variables: \['other'\]\)"):
        ceads.read(p, list(IDS2), ceads.Layout(sectors=TWO))
    (tmp_path / "x.csv").write_text("1")
    with pytest.raises(ceads.CEADSError, match="x.csv: unknown format '.csv'"):
        ceads.read(tmp_path / "x.csv", list(IDS2))


def test_mat_v73_is_refused_with_advice(tmp_path):
    head = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    p = tmp_path / "v73.mat"
    p.write_bytes(head.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM" + b"\x89HDF\r\n\x1a\n" + b"\x00" * 600)
    with pytest.raises(ceads.CEADSError, match=r"v73.mat: MATLAB v7.3 \(HDF5\) file.*'-v7'"):
        ceads.read(p, list(IDS2), ceads.Layout(sectors=TWO))


def test_mat_competitive_imports(tmp_path):
    M = np.array([1.0, 2, 0.5, 0.5])
    path = _mat(tmp_path / "m.mat", Z=Z2, F=F2, Export=E2[:, None], Import=M[:, None])
    t = ceads.read(path, list(IDS2), ceads.Layout(sectors=TWO, imports="column"))
    Zd, Fd = mrio.remove_imports_proportional(Z2, F2, M)
    np.testing.assert_allclose(t.mrio.Z, Zd)
    np.testing.assert_allclose(t.mrio.F, Fd.reshape(4, 2, 2).sum(axis=2))
    np.testing.assert_allclose(t.mrio.x, Z2.sum(1) + F2.sum(1) + E2 - M)
    # the same imports stored with a minus sign, as in NBS tables
    _mat(path, Z=Z2, F=F2, Export=E2[:, None], Import=-M[:, None])
    t2 = ceads.read(path, list(IDS2), ceads.Layout(sectors=TWO, imports="column", import_sign="negative"))
    np.testing.assert_allclose(t2.mrio.Z, t.mrio.Z)
    with pytest.raises(ceads.CEADSError, match=r"m.mat: import column: imports of sector city 110000 sector 01 = -1 are negative"):
        ceads.read(path, list(IDS2), ceads.Layout(sectors=TWO, imports="column"))


# ------------------------------------------------------------------------------------------
# units, cities, years, layout


@pytest.mark.parametrize("unit,factor", [("yuan", 1e4), ("元", 1e4), ("million yuan", 1e-2), ("100 million yuan", 1e-4)])
def test_money_unit_is_converted_to_10k_yuan(tmp_path, unit, factor):
    ref = ceads.read(_mat(tmp_path / "a.mat", Z=Z2, F=F2, Export=E2[:, None]), list(IDS2), ceads.Layout(sectors=TWO))
    other = ceads.read(_mat(tmp_path / "b.mat", Z=Z2 * factor, F=F2 * factor, Export=E2[:, None] * factor),
                       list(IDS2), ceads.Layout(sectors=TWO, unit=unit))
    for a, b in ((ref.mrio.Z, other.mrio.Z), (ref.mrio.F, other.mrio.F), (ref.mrio.x, other.mrio.x)):
        np.testing.assert_allclose(b, a, rtol=1e-12)
    rows = _two_city_rows()
    for r in rows[4:]:
        r[2:] = [v * factor for v in r[2:]]
    t = ceads.read(_book(tmp_path / "c.xlsx", rows), list(IDS2), _two_city_layout(unit=unit))
    np.testing.assert_allclose(t.mrio.Z, Z2, rtol=1e-12)
    assert t.report.of("unit")


def test_unmatched_city_names_stop_with_one_message(tmp_path):
    lst = tmp_path / "cities.csv"
    lst.write_text("序号,城市\n1,北京市\n2,Atlantis\n3,黔南\n4,巢湖市\n", encoding="utf-8")
    with pytest.raises(ceads.CEADSError) as err:
        ceads.read_city_list(lst)
    msg = str(err.value)
    assert "\n" not in msg
    assert "cities.csv, column '城市': 2 of 4 cities match no" in msg
    assert "#2 'Atlantis'" in msg and "#4 '巢湖市'" in msg


def test_city_list_forms(tmp_path):
    (tmp_path / "a.csv").write_text("序号,城市\n1,北京市\n2,黔南布依族苗族自治州\n3,襄樊\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("# cities in file order\n110000\n\n黔南\nXiangyang\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("name,adcode\nBeijing,110000\nQiannan,522700\nXiangyang,420600\n")
    want = ("110000", "522700", "420600")
    for f in ("a.csv", "b.txt", "c.csv"):
        assert ceads.read_city_list(tmp_path / f) == want
    (tmp_path / "d.txt").write_text("北京市\n北京\n", encoding="utf-8")
    with pytest.raises(ceads.CEADSError, match=r"duplicate cities in the list: #1 '北京市' and #2 '北京' are both 110000"):
        ceads.read_city_list(tmp_path / "d.txt")
    with pytest.raises(ceads.CEADSError, match=r"nope.csv: city list not found"):
        ceads.read_city_list(tmp_path / "nope.csv")


def test_missing_year_files_are_named_together(tmp_path):
    a = _mat(tmp_path / "city_mrio_2012.mat", Z=Z2, F=F2)
    files = {2012: a, 2015: tmp_path / "city_mrio_2015.mat", 2017: tmp_path / "city_mrio_2017.mat"}
    with pytest.raises(ceads.CEADSError, match=r"not found: 2015: .*city_mrio_2015.mat; 2017: .*city_mrio_2017.mat"):
        ceads.read_years(files, list(IDS2), ceads.Layout(sectors=TWO))
    got = ceads.read_years({2012: a}, list(IDS2), ceads.Layout(sectors=TWO))
    assert list(got) == [2012]
    _check_two_mat = got[2012].mrio
    np.testing.assert_array_equal(_check_two_mat.Z, Z2)


def test_layout_declaration_is_validated(tmp_path):
    with pytest.raises(ceads.CEADSError, match=r"layout: unit='euro' is not one of"):
        ceads.Layout(unit="euro")
    with pytest.raises(ceads.CEADSError, match=r"layout: imports='mixed' is not one of \['row', 'column'\]"):
        ceads.Layout(imports="mixed")
    with pytest.raises(ceads.CEADSError, match=r"x.json: unknown layout key\(s\) \['colour'\]"):
        ceads.Layout.from_mapping({"colour": 1}, "x.json")
    lay = ceads.Layout(sectors=TWO, fd_categories=("a", "b"), unit="万元")
    lay.save(tmp_path / "l.json")
    assert ceads.Layout.load(tmp_path / "l.json") == lay


def test_old_signature_still_returns_the_dense_mrio(tmp_path):
    m = ceads.load(_mat(tmp_path / "m.mat", Z=Z2, F=F2, Export=E2[:, None]), list(IDS2), TWO)
    assert isinstance(m, mrio.DenseMRIO)
    np.testing.assert_array_equal(m.Z, Z2)


def test_unknown_trailing_row_is_refused_naming_it(tmp_path):
    rows = _two_city_rows()
    rows.append(["Memo", ""] + [1.0] * 4)
    with pytest.raises(ceads.CEADSError, match=r"t.xlsx: sheet 'Sheet1', row 9: label 'Memo' after the 4 \(city, sector\) "
                                               r"rows is not a declared trailing row"):
        ceads.read(_book(tmp_path / "t.xlsx", rows), list(IDS2), _two_city_layout())


def test_mat_category_major_and_top_level_fields(tmp_path):
    Fcat = F2.reshape(4, 2, 2).transpose(0, 2, 1).reshape(4, 4)  # category 1 of both cities, then category 2
    path = _mat(tmp_path / "m.mat", Z=Z2, F=Fcat, Export=E2[:, None])
    t = ceads.read(path, list(IDS2), ceads.Layout(sectors=TWO, fd_order="category-major"))
    _check_two(t)
    np.testing.assert_array_equal(t.F_categories, F2.reshape(4, 2, 2))
    scipy.io.savemat(tmp_path / "top.mat", {"Z": Z2, "F": F2, "Export": E2[:, None], "note": "x"})
    t = ceads.read(tmp_path / "top.mat", list(IDS2), ceads.Layout(sectors=TWO, struct=None))
    _check_two(t)
    assert [n.where for n in t.report.of("ignored_field")] == ["note"]


@needs_cases
def test_the_reading_report_line_names_blank_cells_and_dropped_columns():
    """The data step's line a year (:func:`ceads.report_lines`) from the reader's real notes: the
    blank cell by cell, the trailing Import column dropped."""
    import pandas as pd

    from intercity.sources.ceads import REPORT_COLUMNS, report_lines

    frames = []
    for year, name in ((2012, "blank_cell.xlsx"), (2015, "trailing_import_other.xlsx")):
        t = ceads.read(CASES / name, _expected(name)["cities"], CASE_LAYOUT)
        frames.append(t.report.frame().assign(year=year))
    lines = report_lines(pd.concat(frames)[list(REPORT_COLUMNS)], "results/x/ceads_report.csv")
    assert len(lines) == 2 and all(ln.endswith("see results/x/ceads_report.csv") for ln in lines)
    assert lines[0].startswith("ceads 2012 (blank_cell.xlsx): 1 blank cell (sheet ") and "read as 0" in lines[0], lines
    assert "column H 'Import' dropped (imports in a non-competitive table" in lines[1], lines
