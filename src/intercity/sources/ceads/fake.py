"""A fake CEADs city MRIO: the synthetic world written in the CEADs layouts (.mat and .xlsx).

Nobody may redistribute the CEADs tables, so this writes what a CEADs holder has, from the
synthetic world (:func:`intercity.sources.synthetic.generate`): three years (2012, 2015, 2017) of
dense city x 42-sector tables, a city list in file order (Chinese names, as CEADs lists them), a
city panel CSV (the template of :mod:`intercity.sources.ceads.panel`), the layout declaration that
reads them back (``layout.json``, a :class:`intercity.sources.ceads.Layout`) and a README. Users see
the layout; tests read the files back (:func:`intercity.sources.ceads.read`) and, mapped to the
book's sectors, get the synthetic world's MRIO; ``data_source: ceads`` builds the book on them.

What the files hold, per year (10k yuan unless ``unit`` says otherwise)
----------------------------------------------------------------------
Start from the dense form of the synthetic Chenery-Moses system (:func:`intercity.mrio.to_dense`),
on the book's 41 sectors: coefficients ``A`` (n*S x n*S), domestic final demand ``F0`` (n*S x n) and
output ``x0 = A x0 + F0 1``.

* Exports ``E`` (a column): ``export_share x x0`` times a seeded factor in [0.5, 1.5] per row.
  Output becomes ``x = x0 + (I - A)^-1 E`` (a Neumann series on the structured ``A``, to machine
  precision) and ``Z = A diag(x)``, so ``A`` and ``F`` -- hence the induced output
  ``(I - A)^-1 F`` and every transfer, with the planted connectivity effects -- are those of the
  synthetic world. With ``export_share = 0``, ``Z``, ``F`` and ``x`` equal ``to_dense`` exactly.
* Final demand in K = 5 categories per demanding city (rural and urban household consumption,
  government consumption, gross fixed capital formation, changes in inventories), city-major;
  the categories sum to ``F0``; inventory changes are negative in some cells (drawdowns).
* Non-competitive imports (the CEADs convention): an import row ``IM`` (1 x n*S, intermediate
  imports of each column) and value added ``VA`` in four rows (compensation of employees, net
  taxes on production, depreciation, operating surplus), splitting ``x - 1'Z`` so that every column
  balances: ``x = 1'Z + IM + VA``. Row balance: ``x = Z 1 + F 1 + E``.
* **NBS's 42 sectors of the year.** The book's 41 sectors are those of NBS's 42-sector lists
  with one pair merged (:mod:`intercity.sectors`): 2012/2015 codes 22 (other manufacturing) and 23
  (waste resources); in 2017 codes 35 (research and development) and 36 (technical services),
  every 2017 code from 23 to 34 one lower than the book's. Each year's table is written in that
  year's NBS list, as CEADs tables are: the merged book sector is split in two, row and column,
  with a seeded share ``s`` per city in [0.25, 0.75] (``Z[(i,a),(j,b)] = s_ia s_jb Z[(i,A),(j,B)]``,
  every other array likewise), so the table balances and maps back through the description-keyed
  concordance to the 41-sector system exactly (up to rounding). Sector codes are "01".."42" every
  year; the .xlsx names each sector as that year's NBS list does (Chinese); the .mat carries no
  labels (its sectors are read as NBS's list of the year).

``.mat``: struct ``MRIO`` with ``Z`` (N x N), ``F`` (N x n*K), ``VA`` (4 x N), ``IM`` (1 x N),
``Export`` (N x 1), saved as MATLAB v5/v7 by scipy (N = n x 42). ``.xlsx`` (sheet ``MRIO``): 4
header rows (title; city over every Z and final-demand column; sector code / category / 出口 /
总产出; label headers 城市, 部门代码, 部门名称), one row per (city, sector), columns: labels, Z,
中间使用合计 (a subtotal), final demand, 出口, 总产出; then rows 进口, the four value-added rows,
增加值合计 and 总投入.

Cities: by default the synthetic world draws from the 297 prefecture-level cities named 市 plus
the municipalities of :func:`intercity.cities.city_universe`, less the 9 with administrative
changes 2012-2017 (:func:`intercity.sources.synthetic.select_cities`): at most 288 cities, and the
same cities as ``data_source: synthetic`` with the same ``(n_cities, seed)``. The CEADs tables list
309-313 units, including autonomous prefectures (自治州), leagues (盟) and prefectures (地区):
``all_prefectures=True`` (``--all-prefectures``) draws from all 338 prefecture-level units (329
without the administrative changes), so a 313-city fake is possible.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from intercity import mrio as mrio_mod
from intercity import sectors as sectors_mod
from intercity.mrio import DenseMRIO, StructuredMRIO
from intercity.sectors import SECTOR_CODES
from intercity.sources.ceads import panel as panel_mod
from intercity.sources.ceads import reader as ceads

#: Years of the CEADs city MRIO.
YEARS: tuple[int, ...] = (2012, 2015, 2017)
#: The seed of ``params/default.yaml``.
DEFAULT_SEED = 20121517
#: Final-demand categories (Chinese, NBS/CEADs order).
CATEGORIES = ceads.CEADS_CATEGORIES_ZH
#: Value-added rows (Chinese, NBS order).
VA_ROWS = ("劳动者报酬", "生产税净额", "固定资产折旧", "营业盈余")
#: Largest city count for which .xlsx is written unless asked for explicitly (see ``xlsx_note``).
XLSX_MAX_CITIES = 60


@dataclass(frozen=True)
class FakeYear:
    """One year's fake table, 10k yuan, N = n x 42 rows (NBS's 42 sectors of the year).

    expected : the DenseMRIO the files encode (what :func:`ceads.read` must return), 42 sectors.
    book : the same table on the book's 41 sectors (what the concordance maps ``expected`` to):
        the synthetic world's coefficients and final demand, output with exports; None when not
        kept (full size, to save memory).
    synthetic : the dense form of the synthetic world's structured MRIO (``to_dense``, 41
        sectors), or None when not kept.
    Fk : (N, n, K) final demand by demanding city and category.
    exports : (N,). va : (4, N). im : (N,) intermediate imports by column.
    im_final : (n*K,) imports used by final demand (memo, in the .xlsx import row).
    """

    expected: DenseMRIO
    book: DenseMRIO | None
    synthetic: DenseMRIO | None
    Fk: np.ndarray
    exports: np.ndarray
    va: np.ndarray
    im: np.ndarray
    im_final: np.ndarray


@dataclass(frozen=True)
class FakeWorld:
    """The synthetic world (cities, city-year panel, structured MRIO per year) behind a fake.

    ``year(y)`` builds that year's fake table (seeded by ``(seed, y)``: the same every call).
    """

    cities: pd.DataFrame
    city_year: pd.DataFrame
    mrio: dict[int, StructuredMRIO]
    n_cities: int
    seed: int
    export_share: float
    all_prefectures: bool = False

    def year(self, y: int, keep_synthetic: bool = True) -> "FakeYear":
        return fake_year(self.mrio[y], np.random.default_rng([self.seed, y]), self.export_share, keep_synthetic,
                         year=y)


def _apply_structured(m: StructuredMRIO, v: np.ndarray) -> np.ndarray:
    """``A v`` for the implied ``A[(i,s),(j,r)] = t[s,i,j] a_nat[s,r]``; v and result (n, S)."""
    W = v @ m.a_nat.T  # W[j, s] = sum_r a_nat[s, r] v[j, r]
    return np.einsum("sij,js->is", m.shares, W)


def _leontief_apply(m: StructuredMRIO, e: np.ndarray, tol: float = 1e-16, max_iter: int = 5000) -> np.ndarray:
    """``(I - A)^-1 e`` (n, S) by the Neumann series on the structured ``A``."""
    total = e.copy()
    term = e.copy()
    for _ in range(max_iter):
        term = _apply_structured(m, term)
        total += term
        if np.abs(term).max() <= tol * np.abs(total).max():
            return total
    raise mrio_mod.MRIOError("Neumann series for the exports did not converge")


def nbs_split(n: int, year: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """How the book's 41 sectors become NBS's 42 of ``year``: (rows, share), each (n x 42,).

    Row ``i*42 + r`` of the NBS table (city i, NBS sector r of the year's list,
    :func:`intercity.sectors.nbs_sectors`) is ``share`` times row ``rows[...]`` (city i, the book
    sector r maps to) of the book's table: 1 for a sector NBS and the book share, a seeded share in
    [0.25, 0.75] and its complement for the two NBS sectors of a merged book sector.
    """
    nbs = sectors_mod.nbs_sectors(year)
    book = [SECTOR_CODES.index(c) for c in nbs["sector"]]
    S, R = len(SECTOR_CODES), len(book)
    share = np.ones((n, R))
    for b in sorted(set(book)):
        parts = [r for r in range(R) if book[r] == b]
        if len(parts) == 2:
            u = rng.uniform(0.25, 0.75, n)
            share[:, parts[0]], share[:, parts[1]] = u, 1.0 - u
        elif len(parts) > 2:
            raise ceads.CEADSError(f"NBS {year}: book sector {SECTOR_CODES[b]} has {len(parts)} NBS sectors; the fake splits two")
    rows = (np.arange(n)[:, None] * S + np.asarray(book)[None, :]).reshape(-1)
    return rows, share.reshape(-1)


def fake_year(m: StructuredMRIO, rng: np.random.Generator, export_share: float = 0.05,
              keep_synthetic: bool = True, year: int = 2012) -> FakeYear:
    """The CEADs-layout arrays of one synthetic year (see the module docstring)."""
    if not 0 <= export_share < 1:
        raise ceads.CEADSError(f"export_share={export_share} must be in [0, 1)")
    syn = mrio_mod.to_dense(m)
    n, S = m.n_cities, m.n_sectors
    N, K = n * S, len(CATEGORIES)
    x0 = syn.x
    E = export_share * x0 * rng.uniform(0.5, 1.5, N)
    if export_share > 0:
        x = x0 + _leontief_apply(m, E.reshape(n, S)).reshape(N)
    else:
        x = x0.copy()
    ratio = np.divide(x, x0, out=np.ones_like(x), where=x0 > 0)
    if keep_synthetic:
        Z = syn.Z * ratio[None, :]  # A diag(x): same coefficients as the synthetic world
    else:
        Z = syn.Z
        Z *= ratio[None, :]
    # final demand in K categories: inventory share in [-3%, 8%], the rest split by Dirichlet shares
    inv = rng.uniform(-0.03, 0.08, (N, n))
    rest = rng.dirichlet((2.0, 5.0, 2.0, 4.0), size=(N, n))  # (N, n, 4)
    Fk = np.empty((N, n, K))
    Fk[:, :, :4] = syn.F[:, :, None] * (1.0 - inv)[:, :, None] * rest
    Fk[:, :, 4] = syn.F * inv
    # columns balance: x = 1'Z + IM + VA
    resid = x - Z.sum(axis=0)
    if (resid <= 0).any():
        raise mrio_mod.MRIOError("a column of the synthetic A sums to 1 or more: no room for value added")
    share_im = rng.uniform(0.05, 0.25, N)
    im = resid * share_im
    va = (resid * (1.0 - share_im))[None, :] * rng.dirichlet((5.0, 1.5, 1.5, 3.0), size=N).T  # (4, N)
    im_final = 0.05 * Fk.reshape(N, n * K).clip(min=0).sum(axis=0)
    book = DenseMRIO(m.cities, m.sectors, Z, Fk.sum(axis=2), Z.sum(axis=1) + Fk.sum(axis=(1, 2)) + E)
    # NBS's 42 sectors of the year: split the merged book sector, rows and columns
    rows, share = nbs_split(n, year, rng)
    Z42 = Z[np.ix_(rows, rows)]
    if not keep_synthetic:
        del book, Z, syn
        book = syn = None
    Z42 *= share[:, None]
    Z42 *= share[None, :]
    Fk42 = Fk[rows] * share[:, None, None]
    E42, im42, va42 = E[rows] * share, im[rows] * share, va[:, rows] * share[None, :]
    x_read = Z42.sum(axis=1) + Fk42.sum(axis=(1, 2)) + E42
    expected = DenseMRIO(m.cities, ceads.NBS_CODES, Z42, Fk42.sum(axis=2), x_read)
    return FakeYear(expected, book, syn if keep_synthetic else None, Fk42, E42, va42, im42, im_final)


def build(n_cities: int = 41, seed: int = DEFAULT_SEED, export_share: float = 0.05,
          periods: Sequence[tuple[int, int]] = ((2012, 2015), (2015, 2017)),
          all_prefectures: bool = False) -> FakeWorld:
    """The synthetic world of ``(n_cities, seed)`` -- the one ``data_source: synthetic`` builds
    for these parameters (years 2011-2017) -- from which ``FakeWorld.year`` makes the fake CEADs
    table of 2012, 2015 or 2017 (each year's extra draws seeded by ``(seed, year)``).
    ``all_prefectures`` draws the cities from every prefecture-level unit (module docstring); the
    world is then not the synthetic source's."""
    from intercity.sources import synthetic

    mrio_years = tuple(sorted({y for p in periods for y in p}))
    if mrio_years != YEARS:
        raise ceads.CEADSError(f"periods {list(periods)} give MRIO years {mrio_years}; CEADs has {YEARS}")
    years = list(range(min(YEARS) - 1, max(YEARS) + 1))
    try:
        raw = synthetic.generate(n_cities, seed, years, [tuple(p) for p in periods], YEARS,
                                 all_prefectures=all_prefectures)
    except ValueError as err:
        hint = ("" if all_prefectures else "; the CEADs tables' 309-313 units also count autonomous prefectures, "
                "leagues and prefectures: add --all-prefectures (all_prefectures=True) for up to 329")
        raise ceads.CEADSError(f"{err}: the synthetic world draws from the prefecture-level "
                               f"{'units' if all_prefectures else 'cities named 市 and the municipalities'}, less "
                               f"those with administrative changes 2012-2017{hint}") from None
    if not 0 <= export_share < 1:
        raise ceads.CEADSError(f"export_share={export_share} must be in [0, 1)")
    return FakeWorld(raw["cities"], raw["city_year"], {y: raw["mrio"][y] for y in YEARS}, n_cities, seed,
                     export_share, all_prefectures)


def layout(unit: str = "10k yuan") -> ceads.Layout:
    """The declared layout of the fake files (written next to them as ``layout.json``): sectors
    "01".."42" (NBS's list of each year; no declared labels, so a .mat's sectors are read as that
    list), five final-demand categories, non-competitive imports, 4 header rows."""
    return ceads.Layout(sectors=ceads.NBS_CODES, fd_categories=CATEGORIES, unit=unit, imports="row",
                        header_rows=4, column_city_row=2, sheet="MRIO")


# --------------------------------------------------------------------------------------------
# writers


def write_mat(path: Path, fy: FakeYear, unit: str = "10k yuan", compress: bool = False) -> None:
    """Struct ``MRIO`` (Z, F, VA, IM, Export) in the file's ``unit`` (MATLAB v5/v7 format, by scipy).

    Uncompressed by default: the synthetic flows hardly compress (at 273 cities 1,082 MB compressed
    vs 1,123 MB raw) and zlib costs time (64 s vs 10 s a year) and memory.
    """
    import scipy.io

    f = 1.0 / ceads.UNITS[ceads._unit_name(unit)]
    N, n, K = fy.Fk.shape
    Z = fy.expected.Z if f == 1.0 else fy.expected.Z * f
    scipy.io.savemat(path, {"MRIO": {
        "Z": Z, "F": fy.Fk.reshape(N, n * K) * f, "VA": fy.va * f, "IM": fy.im[None, :] * f,
        "Export": fy.exports[:, None] * f}}, do_compression=compress, oned_as="column")


def write_xlsx(path: Path, fy: FakeYear, names: Sequence[str], year: int, unit: str = "10k yuan") -> None:
    """The CEADs-style spreadsheet (see the module docstring), openpyxl write-only mode."""
    import openpyxl

    f = 1.0 / ceads.UNITS[ceads._unit_name(unit)]
    sec = sectors_mod.nbs_sectors(year)  # the year's NBS 42-sector list, as a CEADs table of that year
    codes, descr = list(sec["code"]), list(sec["description_zh"])
    N, n, K = fy.Fk.shape
    S = N // n
    unit_zh = {"yuan": "元", "10k yuan": "万元", "million yuan": "百万元", "100 million yuan": "亿元"}[ceads._unit_name(unit)]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("MRIO")
    lead = 3
    title = f"中国城市多区域投入产出表 {year}（合成数据，非 CEADs 原表；单位：{unit_zh}）"
    ws.append([title])
    ws.append([None] * lead + [names[j // S] for j in range(N)] + [None] + [names[c // K] for c in range(n * K)])
    ws.append([None] * lead + [codes[j % S] for j in range(N)] + ["中间使用合计"]
              + [CATEGORIES[c % K] for c in range(n * K)] + ["出口", "总产出"])
    ws.append(["城市", "部门代码", "部门名称"] + [descr[j % S] for j in range(N)] + [None]
              + ["最终使用"] * (n * K))
    Z = fy.expected.Z * f
    F = fy.Fk.reshape(N, n * K) * f
    E = fy.exports * f
    x = fy.expected.x * f
    tiu = Z.sum(axis=1)
    for k in range(N):
        ws.append([names[k // S], codes[k % S], descr[k % S]] + Z[k].tolist() + [float(tiu[k])]
                  + F[k].tolist() + [float(E[k]), float(x[k])])
    ws.append(["进口"] + [None] * (lead - 1) + (fy.im * f).tolist() + [None] + (fy.im_final * f).tolist())
    for r, label in enumerate(VA_ROWS):
        ws.append([label] + [None] * (lead - 1) + (fy.va[r] * f).tolist())
    ws.append(["增加值合计"] + [None] * (lead - 1) + (fy.va.sum(axis=0) * f).tolist())
    ws.append(["总投入"] + [None] * (lead - 1) + x.tolist())
    wb.save(path)


def xlsx_note(n_cities: int) -> str:
    return (f"{n_cities} cities: .xlsx not written (more than {XLSX_MAX_CITIES} cities; ask for it with "
            "--formats mat,xlsx). Measured here (benchmarks/ceads_fake.py): openpyxl writes about 105,000 cells "
            "a second, so a full-size sheet (313 x 42 = 13,146 rows x 14,717 columns, 194 million cells) takes "
            "about 30 minutes a year to write; reading it takes about 4 minutes and 18 GB of memory with calamine, "
            "or about an hour with openpyxl. Use the .mat files at full size.")


def write(out: Path | str, n_cities: int = 41, seed: int = DEFAULT_SEED,
          formats: Sequence[str] = ("mat", "xlsx"), unit: str = "10k yuan", export_share: float = 0.05,
          force_xlsx: bool = False, log=print, all_prefectures: bool = False) -> dict[str, Any]:
    """Write the fake CEADs directory ``out``; returns {what: path or note} and the seconds taken.

    Files: ``city_mrio_<year>.mat`` / ``.xlsx``, ``city_list.csv`` (序号, 城市: Chinese names in
    file order), ``city_panel.csv`` (the template of :mod:`intercity.sources.ceads.panel` filled
    with the yearbook variables of the synthetic world), ``layout.json`` (the declared layout),
    ``README.md``, ``fake.json`` (how it was made). ``.xlsx`` is skipped above ``XLSX_MAX_CITIES``
    cities unless ``force_xlsx``. ``all_prefectures``: see :func:`build`.
    """
    out = Path(out)
    bad = sorted(set(formats) - {"mat", "xlsx"})
    if bad:
        raise ceads.CEADSError(f"formats {bad} unknown: use mat and/or xlsx")
    if ceads._unit_name(unit) is None:
        raise ceads.CEADSError(f"unit {unit!r} is not one of {list(ceads.UNITS)}")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    world = build(n_cities, seed, export_share, all_prefectures=all_prefectures)
    done: dict[str, Any] = {"seconds": {"build": round(time.perf_counter() - t0, 3)}}
    names = list(world.cities["name_zh"])
    pd.DataFrame({"序号": range(1, len(names) + 1), "城市": names}).to_csv(out / "city_list.csv", index=False)
    panel = world.city_year.merge(world.cities[["city_id", "name_zh"]], on="city_id")
    panel_mod.write(out / "city_panel.csv", panel, sorted(panel["year"].unique()))
    lay = layout(unit)
    lay.save(out / "layout.json")
    xlsx = "xlsx" in formats and (n_cities <= XLSX_MAX_CITIES or force_xlsx)
    if "xlsx" in formats and not xlsx:
        done["xlsx"] = xlsx_note(n_cities)
        log(done["xlsx"])
    for y in YEARS:
        fy = world.year(y, keep_synthetic=False)
        if "mat" in formats:
            t = time.perf_counter()
            write_mat(out / f"city_mrio_{y}.mat", fy, unit)
            done["seconds"][f"mat_{y}"] = round(time.perf_counter() - t, 3)
            done[f"mat_{y}"] = str(out / f"city_mrio_{y}.mat")
        if xlsx:
            t = time.perf_counter()
            write_xlsx(out / f"city_mrio_{y}.xlsx", fy, names, y, unit)
            done["seconds"][f"xlsx_{y}"] = round(time.perf_counter() - t, 3)
            done[f"xlsx_{y}"] = str(out / f"city_mrio_{y}.xlsx")
        del fy  # one year's arrays at a time (1.4 GB each at full size)
    (out / "README.md").write_text(_readme(world, unit, formats, xlsx), encoding="utf-8")
    (out / "fake.json").write_text(json.dumps({"n_cities": n_cities, "seed": seed, "unit": unit,
                                               "export_share": export_share, "years": list(YEARS),
                                               "all_prefectures": all_prefectures}, indent=1))
    done["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    return done


def _readme(world: FakeWorld, unit: str, formats: Sequence[str], xlsx: bool) -> str:
    n = len(world.cities)
    universe = ("every prefecture-level unit (autonomous prefectures, prefectures and leagues too)"
                if world.all_prefectures else "the prefecture-level cities named 市 and the municipalities")
    return f"""# A FAKE CEADs city MRIO (synthetic data, not the CEADs tables)

Written by `python -m intercity data fake-ceads` from the synthetic world of intercity
(n_cities={n}, seed={world.seed}, cities drawn from {universe}): {n} cities x 42 sectors = {n * 42}
rows, years {', '.join(map(str, YEARS))}, money unit {unit}. Every number is synthetic; the layout is
that of the CEADs city MRIO.

- `city_mrio_<year>.mat`: struct `MRIO` with `Z` (N x N), `F` (N x {n}*5, five final-demand categories
  per city, city-major), `VA` (4 x N), `IM` (1 x N, non-competitive imports), `Export` (N x 1).
- `city_mrio_<year>.xlsx`{'' if xlsx else ' (not written at this size)'}: sheet `MRIO`, 4 header rows, one row per (city, sector),
  labels 城市 / 部门代码 / 部门名称, then Z, 中间使用合计, final demand, 出口, 总产出;
  rows 进口, value added (劳动者报酬, 生产税净额, 固定资产折旧, 营业盈余), 增加值合计, 总投入.
- `city_list.csv`: the cities in file order (Chinese names).
- `city_panel.csv`: one row per city and year 2011-2017, the columns of the template of
  `python -m intercity data template` (units in its header comment).
- `layout.json`: the declared layout; read a year with
  `intercity.sources.ceads.read(path, "city_list.csv", Layout.load("layout.json"))`.

Build the book on it: a parameter file with `data_source: ceads` and a `ceads:` section naming
these files (see `params/ceads-example.yaml`), then `python -m intercity build --params FILE`.

Balances: rows x = Z 1 + F 1 + Export; columns x = 1'Z + IM + VA. Sectors: NBS's 42-sector list of
each year (2017's differs from 2012/2015's from code 22 on); mapped to the book's 41 sectors by
description, the coefficients A = Z / x and the final demand are those of the synthetic world, so
the induced output and the transfers are too.
"""
