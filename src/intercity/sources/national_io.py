"""National input-output tables of China (NBS 2012, 2015, 2017) and their regionalisation to a
city MRIO: the public source's stand-in for the CEADs city tables.

The national tables give domestic technical coefficients, final demand and output, mapped to the
book's 41 sectors through the sector concordance (:func:`national_table`); :func:`city_mrio` regionalises them with city sector structure
(:func:`sector_weights`: city value added and employment, constrained to real provincial output by
sector, :mod:`intercity.sources.provincial`) and a distance-gravity trade model (Chenery-Moses).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from intercity.mrio import StructuredMRIO, remove_imports_proportional
from intercity.sectors import (N_SECTORS, SECTOR_CODES, SERVICE_SECTORS, ConcordanceError, aggregation_matrix,
                               tradability)
from intercity.sources.city_stats import SECTOR_TO_YB
from intercity.sources.fetch import raw_path
from intercity.sources.provincial import ProvincialTargets, constrain, province_index


#: The national table of each year: (file under ``national_io/``, its list in the concordance).
TABLE_FILES: dict[int, tuple[str, str]] = {2012: ("china_2012_139", "nbs2012_139"),
                                           2015: ("china_2015_42", "nbs2015_42"),
                                           2017: ("china_2017_42", "nbs2017_42")}
#: Domestic final-use columns of the 2012 and 2015 tables (rural and urban household and
#: government consumption, gross fixed capital formation, changes in inventories); exports excluded.
DOMESTIC_FD = ("FU101", "FU102", "FU103", "FU201", "FU202")
#: The same for the 2017 table (its rows are domestic-origin already): TC = FU101 + FU102 + FU103.
DOMESTIC_FD_2017 = ("TC", "FU201", "FU202")


def _book_matrices(path: Path, prod: pd.DataFrame, num_cols: list[str], year: int) -> tuple[np.ndarray, np.ndarray]:
    """Aggregation matrices (rows, columns) of one national table to the book's sectors.

    Rows are matched by their Chinese description (and the English one must name the same book
    sector); columns, which carry only codes, by the description of this file's row of the same
    code (an IO table is product x product): never by code number across years.
    """
    zh, en = prod["DescriptionInChinese"].tolist(), prod["Description"].tolist()
    try:
        rows = aggregation_matrix(zh, year, what=f"{path.name} row description")
        by_en = aggregation_matrix(en, year, what=f"{path.name} row description")
    except ConcordanceError as err:
        raise ConcordanceError(f"{path}: {err}") from None
    differ = np.flatnonzero((rows.to_numpy() != by_en.to_numpy()).any(axis=1))
    if differ.size:
        k = int(differ[0])
        raise ConcordanceError(f"{path}: row {prod['Code'].iloc[k]}: English {en[k]!r} and Chinese {zh[k]!r}"
                               " descriptions name different book sectors")
    desc_of = dict(zip(prod["Code"], zh))
    unknown = [c for c in num_cols if c not in desc_of]
    if unknown:
        raise ConcordanceError(f"{path}: column(s) {unknown[:5]} have no product row of the same code")
    cols = aggregation_matrix([desc_of[c] for c in num_cols], year, what=f"{path.name} column")
    return rows.to_numpy(), cols.to_numpy()


def national_table(raw_dir: Path | None, year: int) -> dict[str, np.ndarray]:
    """Domestic national system of one year on the book's sectors: Z (S,S), f (S,), x (S,); 10k yuan.

    ``S = N_SECTORS`` (41, :mod:`intercity.sectors`). The table's products (2012: 139; 2015, 2017:
    42) are mapped to the book's sectors by description through the sector concordance
    (:func:`intercity.sectors.aggregation_matrix`), never by code number: NBS's 2017 list
    differs from the 2012/2015 list from code 22 on. Imports are removed at the table's own
    product level before aggregating: 2012 and 2015 with the proportional import assumption
    (:func:`intercity.mrio.remove_imports_proportional`, imports = ``|IM|``); 2017 by taking the
    table's own domestic-origin rows. ``f`` is domestic final demand (consumption, fixed capital
    formation and changes in inventories; exports excluded): it is negative where inventory
    drawdowns exceed the other final uses, and is kept so. ``x`` is the ``TI`` (total inputs) row,
    ``va`` (S,) the ``TVA`` (total value added) row.
    Raises ValueError (or :class:`~intercity.sectors.ConcordanceError`) naming the file and the
    row, column or year.
    """
    if year not in TABLE_FILES:
        raise ValueError(f"national IO table: no table for year {year} (have {sorted(TABLE_FILES)})")
    name, _table = TABLE_FILES[year]
    path = raw_path(f"national_io/{name}.csv", raw_dir)
    t = pd.read_csv(path, dtype={"Code": str})
    for col in ("Code", "Description", "DescriptionInChinese"):
        if col not in t.columns:
            raise ValueError(f"{path}: expected a {col!r} column")
    num_cols = [c for c in t.columns if re.fullmatch(r"\d+", str(c))]
    total = t.loc[t["Code"] == "TI"]
    if total.empty:
        raise ValueError(f"{path}: no 'TI' (total inputs) row")
    tva = t.loc[t["Code"] == "TVA"]
    if tva.empty:
        raise ValueError(f"{path}: no 'TVA' (total value added) row")
    if year == 2017:
        if "Origin" not in t.columns:
            raise ValueError(f"{path}: expected an 'Origin' column (domestic/imports split)")
        t = t[t["Origin"].astype(str) == "Domestic"]
    prod = t[t["Code"].str.fullmatch(r"\d+")]
    fdcols = list(DOMESTIC_FD_2017 if year == 2017 else DOMESTIC_FD)
    lacking = [c for c in fdcols + ([] if year == 2017 else ["IM"]) if c not in t.columns]
    if lacking:
        raise ValueError(f"{path}: lacks final-use column(s) {lacking}")
    rows, cols = _book_matrices(path, prod, num_cols, year)
    z = prod[num_cols].apply(pd.to_numeric).to_numpy()
    fd = prod[fdcols].apply(pd.to_numeric).to_numpy()
    x = pd.to_numeric(total[num_cols].iloc[0]).to_numpy()
    va = pd.to_numeric(tva[num_cols].iloc[0]).to_numpy()
    if year != 2017:
        im = np.abs(pd.to_numeric(prod["IM"]).to_numpy())
        z, fd = remove_imports_proportional(z, fd, im, sectors=[f"{path.name} product {c}" for c in prod["Code"]])
    return {"Z": rows.T @ z @ cols, "f": rows.T @ fd.sum(axis=1), "x": x @ cols, "va": va @ cols}


#: Distance elasticity of trade by tradability (gravity: flow ~ supply x demand x d^-elasticity).
DISTANCE_ELASTICITY = {"goods": 1.0, "services": 1.5, "local": 2.0}


def city_mrio(nat: dict[str, np.ndarray], ids: list[str], dist_km: np.ndarray, area_km2: np.ndarray,
              sector_weight: np.ndarray, gdp: np.ndarray) -> StructuredMRIO:
    """Regionalise a national table to cities (Chenery-Moses with a distance-gravity model).

    a_nat = Z / x (national domestic technical coefficients). City output of sector s is the
    national output split by ``sector_weight[i, s]`` (city sector structure); city final demand
    f[j, s] = national domestic final demand x GDP share of j. Trade shares
    t[s, i, j] ~ output[i, s] x d_ij ** -elasticity(s), with the internal distance of a city
    d_ii = (2/3) sqrt(area / pi) km (Head-Mayer) and d_ij >= d_ii. Final demand is kept as the
    national table gives it, negative entries (inventory drawdowns) included; all arrays are on
    the book's sectors (:data:`intercity.sectors.SECTOR_CODES`).
    """
    S = N_SECTORS
    x = np.asarray(nat["x"], float)
    a = np.divide(nat["Z"], x[None, :], out=np.zeros((S, S)), where=x[None, :] > 0)
    w = sector_weight / np.maximum(sector_weight.sum(axis=0, keepdims=True), 1e-300)
    out_city = w * x[None, :]  # (n, S)
    f = np.asarray(nat["f"], float)[None, :] * (gdp / gdp.sum())[:, None]
    internal = (2.0 / 3.0) * np.sqrt(np.asarray(area_km2, float) / np.pi)
    d = np.maximum(np.asarray(dist_km, float), internal[:, None])
    np.fill_diagonal(d, internal)
    el = np.array([DISTANCE_ELASTICITY[tradability(c)] for c in SECTOR_CODES])
    shares = out_city.T[:, :, None] * d[None, :, :] ** (-el[:, None, None])  # (S, n, n)
    col = shares.sum(axis=1, keepdims=True)
    empty = col[:, 0, :] <= 0  # product with no supplier in the sample: use local supply
    shares = np.divide(shares, col, out=np.zeros_like(shares), where=col > 0)
    for s, j in zip(*np.nonzero(empty)):
        shares[s, j, j] = 1.0
    return StructuredMRIO(cities=tuple(ids), sectors=SECTOR_CODES, a_nat=a, shares=shares, final_demand=f)


def sector_weights(ids: list[str], year: int, yearbook: pd.DataFrame, industry: pd.DataFrame,
                   nat_x: np.ndarray, provincial: ProvincialTargets | None = None) -> tuple[np.ndarray, str]:
    """City x sector output weights, (n, S): the share of national output of sector s made in city i
    is ``w[i, s] / w[:, s].sum()`` (:func:`city_mrio` normalises each column).

    **Unconstrained rule** (``provincial=None``): ``w0[i, s] = va[i, g(s)] * e[i, s] * m[s]``, with
    ``va[i, g]`` the value added of city i's industry g (1st/2nd/3rd, G-P panel, year ``year``),
    ``e[i, s]`` the city's yearbook employment in the yearbook category of s over its employment in
    the categories of industry g (1 for agriculture), and ``m[s]`` sector s's share of national
    output within its yearbook category (``nat_x``): so every city has the same mix of sectors
    within a category (e.g. manufacturing). Industries: primary = book sector 01, tertiary =
    :data:`~intercity.sectors.SERVICE_SECTORS`, secondary = the rest. Uses the latest yearbook year
    <= ``year``.

    **Provincial constraint** (``provincial`` given, :mod:`intercity.sources.provincial`): the
    weights are rescaled so that, within each province p and sector s, the cities' output sums to
    the province's share of national output in s, adjusted for the part of p the sample covers:

        w[i, s] = (1 - u[s]) * t[p, s] * w0[i, s] / sum_{k in p} w0[k, s],
        t[p, s] = kappa[p] * sh[p, s] / sum_q kappa[q] * sh[q, s],

    with ``sh[p, s]`` the province's share of the provinces' output of s (real provincial gross
    output, 2012 and 2017; 2015 the linear interpolation 0.4 x 2012 + 0.6 x 2017 of the shares),
    ``kappa[p]`` the share of province p's economy in the sample cities
    (:func:`~intercity.sources.provincial.coverage`; 1 for a province whose prefecture-level
    units are all sample cities), and ``u[s]`` the unconstrained share ``sum w0[i, s] / sum w0[:, s]``
    of the cities whose province has no provincial data, which keep ``w0 / w0.sum(axis=0)``
    (:func:`~intercity.sources.provincial.constrain`). Each column of ``w`` then sums to 1, so the
    city MRIO's national output stays the national table's ``nat_x``: the provincial data only
    shape its distribution over cities. The weights are the supply side of :func:`city_mrio`'s
    trade shares; the solved output follows them up to the gravity model, which pulls supply
    toward demand (on the full public build about 10% of national output ends in another province
    than the provincial data put it, against 20% without the constraint:
    ``benchmarks/provincial_check.py``).

    ``nat_x`` (S,): national output on the book's sectors (``S = N_SECTORS``). Returns (weights,
    a note on the years used and the constraint). Raises ValueError for a wrong ``nat_x`` shape or
    a year without yearbook data.
    """
    if np.shape(nat_x) != (N_SECTORS,):
        raise ValueError(f"national output has shape {np.shape(nat_x)}, expected ({N_SECTORS},) book sectors")
    yb_years = sorted(y for y in yearbook["year"].unique() if y <= year)
    if not yb_years:
        raise ValueError(f"no yearbook data for {year} or earlier")
    yy = yb_years[-1]
    yb = yearbook[yearbook["year"] == yy].set_index("city_id").reindex(ids)
    ind = industry[industry["year"] == year].set_index("city_id").reindex(ids)
    S = N_SECTORS
    ind_of = np.array([1 if c == "01" else 3 if c in SERVICE_SECTORS else 2 for c in SECTOR_CODES])
    cats = [SECTOR_TO_YB[c] for c in SECTOR_CODES]
    emp = np.column_stack([yb[f"emp_{c}"].to_numpy(float) for c in cats])  # (n, S), repeated by category
    emp = np.nan_to_num(emp, nan=0.0)
    # national output share of each sector within its yearbook category
    cat_tot = pd.Series(nat_x).groupby(cats).transform("sum").to_numpy()
    within = np.divide(nat_x, cat_tot, out=np.zeros(S), where=cat_tot > 0)
    # employment of each category counted once per industry group
    uniq = {}
    for s, c in enumerate(cats):
        uniq.setdefault((ind_of[s], c), s)
    emp_group = np.zeros((len(ids), 4))
    for (g, _c), s in uniq.items():
        emp_group[:, g] += emp[:, s]
    va = np.column_stack([np.zeros(len(ids))] + [ind[f"va{g}"].to_numpy(float) for g in (1, 2, 3)])
    va = np.nan_to_num(va, nan=0.0)
    share = np.divide(emp, emp_group[:, ind_of], out=np.zeros_like(emp), where=emp_group[:, ind_of] > 0)
    share[:, ind_of == 1] = 1.0
    w = va[:, ind_of] * share * within[None, :]
    note = f"employment structure of yearbook data year {yy}, value added of {year}"
    if provincial is None:
        return w, note
    if provincial.year != year:
        raise ValueError(f"provincial targets of {provincial.year} given for the weights of {year}")
    prov = province_index(ids, provincial.has_data())
    w, info = constrain(w, prov, provincial.shares, provincial.kappa)
    note += f"; constrained to real provincial output by sector ({provincial.source})"
    if info["cities_without_province_data"]:
        note += f"; {info['cities_without_province_data']} cities without provincial data keep the unconstrained rule"
    if info["size_split"]:
        note += (f"; {len(info['size_split'])} province-sectors without city weight split by city size:"
                 f" {info['size_split'][:5]}")
    if info["unconstrained_sectors"]:
        note += f"; sectors without provincial output: {info['unconstrained_sectors']}"
    return w, note


def national_gfcf_ratio(raw_dir: Path | None) -> dict[int, float]:
    """Gross fixed capital formation (FU201) / total value added of the national IO tables."""
    out = {}
    for year, name in ((2012, "china_2012_139"), (2015, "china_2015_42"), (2017, "china_2017_42")):
        t = pd.read_csv(raw_path(f"national_io/{name}.csv", raw_dir), dtype={"Code": str})
        prod = t[t["Code"].str.fullmatch(r"\d+")]
        tva = t.loc[t["Code"] == "TVA"]
        if tva.empty or "FU201" not in t.columns:
            raise ValueError(f"national_io/{name}.csv: lacks the TVA row or the FU201 column")
        va = float(pd.to_numeric(tva[[c for c in t.columns if re.fullmatch(r"\d+", str(c))]].iloc[0]).sum())
        out[year] = float(pd.to_numeric(prod["FU201"]).sum()) / va
    return out
