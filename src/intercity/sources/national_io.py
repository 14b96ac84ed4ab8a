"""National input-output tables of China (NBS 2012, 2015, 2017) and their regionalisation to a
city MRIO: the public source's stand-in for the CEADs city tables.

The national tables give domestic technical coefficients, final demand and output by 42 sectors
(:func:`national_table`); :func:`city_mrio` regionalises them with city sector structure
(:func:`sector_weights`) and a distance-gravity trade model (Chenery-Moses).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from intercity.mrio import StructuredMRIO, remove_imports_proportional
from intercity.sectors import SECTOR_CODES, tradability
from intercity.sources.city_stats import SECTOR_TO_YB
from intercity.sources.fetch import raw_path


#: First product (of 139) of each of the 42 sectors in the NBS 2012 table; a product belongs to
#: the sector whose first product is the largest not above its code.
FIRST_139 = {"01": 1, "02": 6, "03": 7, "04": 8, "05": 10, "06": 12, "07": 26, "08": 31, "09": 34,
             "10": 36, "11": 39, "12": 41, "13": 52, "14": 59, "15": 64, "16": 65, "17": 71, "18": 75,
             "19": 80, "20": 86, "21": 92, "22": 93, "23": 94, "24": 95, "25": 96, "26": 97, "27": 98,
             "28": 99, "29": 103, "30": 104, "31": 112, "32": 114, "33": 116, "34": 119, "35": 120,
             "36": 122, "37": 125, "38": 128, "39": 130, "40": 131, "41": 133, "42": 138}
DOMESTIC_FD = ("FU101", "FU102", "FU103", "FU201", "FU202")


def sector_of_139(code: int) -> str:
    """42-sector code of a product code 1..139 of the 2012 table."""
    if not 1 <= code <= 139:
        raise ValueError(f"product code {code} outside 1..139")
    return max((c for c, first in FIRST_139.items() if first <= code), key=lambda c: FIRST_139[c])


def national_table(raw_dir: Path | None, year: int) -> dict[str, np.ndarray]:
    """Domestic national system of one year, 42 sectors: Z (S,S), f (S,), x (S,); 10k yuan.

    2012: 139 products summed to 42 sectors by code; 2012 and 2015: imports removed with the
    proportional assumption; 2017: the table's own domestic-origin rows.
    """
    name = {2012: "china_2012_139", 2015: "china_2015_42", 2017: "china_2017_42"}.get(year)
    if name is None:
        raise ValueError(f"national IO table: no table for year {year} (have 2012, 2015, 2017)")
    path = raw_path(f"national_io/{name}.csv", raw_dir)
    t = pd.read_csv(path, dtype={"Code": str})
    num_cols = [c for c in t.columns if re.fullmatch(r"\d+", str(c))]
    if year == 2017:
        if "Origin" not in t.columns:
            raise ValueError(f"{path}: expected an 'Origin' column (domestic/imports split)")
        t = t[t["Origin"].astype(str).isin(["Domestic", "TOT"])]
    prod = t[t["Code"].str.fullmatch(r"\d+")]
    if year == 2012:
        keys = [sector_of_139(int(c)) for c in prod["Code"]]
        colkey = [sector_of_139(int(c)) for c in num_cols]
        z = prod[num_cols].apply(pd.to_numeric).to_numpy()
        z = pd.DataFrame(z, index=keys, columns=colkey).T.groupby(level=0).sum().T.groupby(level=0).sum()
        z = z.loc[list(SECTOR_CODES), list(SECTOR_CODES)].to_numpy()
        fd = prod[list(DOMESTIC_FD)].apply(pd.to_numeric).groupby(keys).sum().loc[list(SECTOR_CODES)].to_numpy()
        im = pd.to_numeric(prod["IM"]).groupby(keys).sum().loc[list(SECTOR_CODES)].to_numpy()
        ti = t.loc[t["Code"] == "TI", num_cols].apply(pd.to_numeric).iloc[0]
        x = ti.groupby(colkey).sum().loc[list(SECTOR_CODES)].to_numpy()
    else:
        if list(prod["Code"]) != list(SECTOR_CODES):
            raise ValueError(f"{path}: product rows are not the 42 sectors 01..42")
        z = prod[list(SECTOR_CODES)].apply(pd.to_numeric).to_numpy()
        fdcols = [c for c in DOMESTIC_FD if c in t.columns] if year == 2015 else ["TC", "FU201", "FU202"]
        fd = prod[fdcols].apply(pd.to_numeric).to_numpy()
        x = t.loc[t["Code"] == "TI", list(SECTOR_CODES)].apply(pd.to_numeric).iloc[0].to_numpy()
        im = pd.to_numeric(prod["IM"]).to_numpy() if year == 2015 else None
    if im is not None:
        z, fd = remove_imports_proportional(z, fd, np.abs(im), sectors=SECTOR_CODES)
    return {"Z": z, "f": fd.sum(axis=1), "x": x}


#: Distance elasticity of trade by tradability (gravity: flow ~ supply x demand x d^-elasticity).
DISTANCE_ELASTICITY = {"goods": 1.0, "services": 1.5, "local": 2.0}


def city_mrio(nat: dict[str, np.ndarray], ids: list[str], dist_km: np.ndarray, area_km2: np.ndarray,
              sector_weight: np.ndarray, gdp: np.ndarray) -> StructuredMRIO:
    """Regionalise a national table to cities (Chenery-Moses with a distance-gravity model).

    a_nat = Z / x (national domestic technical coefficients). City output of sector s is the
    national output split by ``sector_weight[i, s]`` (city sector structure); city final demand
    f[j, s] = national domestic final demand x GDP share of j. Trade shares
    t[s, i, j] ~ output[i, s] x d_ij ** -elasticity(s), with the internal distance of a city
    d_ii = (2/3) sqrt(area / pi) km (Head-Mayer) and d_ij >= d_ii.
    """
    S = len(SECTOR_CODES)
    x = np.asarray(nat["x"], float)
    a = np.divide(nat["Z"], x[None, :], out=np.zeros((S, S)), where=x[None, :] > 0)
    w = sector_weight / np.maximum(sector_weight.sum(axis=0, keepdims=True), 1e-300)
    out_city = w * x[None, :]  # (n, S)
    f = np.clip(nat["f"], 0.0, None)[None, :] * (gdp / gdp.sum())[:, None]
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
                   nat_x: np.ndarray) -> tuple[np.ndarray, str]:
    """City x sector weights: value added of the city's industry (1st/2nd/3rd, G-P panel) split
    over its sectors by yearbook employment, then within a yearbook category by national output.

    Uses the latest yearbook year <= ``year``; returns (weights (n, S), note on the years used).
    """
    yb_years = sorted(y for y in yearbook["year"].unique() if y <= year)
    if not yb_years:
        raise ValueError(f"no yearbook data for {year} or earlier")
    yy = yb_years[-1]
    yb = yearbook[yearbook["year"] == yy].set_index("city_id").reindex(ids)
    ind = industry[industry["year"] == year].set_index("city_id").reindex(ids)
    S = len(SECTOR_CODES)
    ind_of = np.array([1 if c == "01" else 2 if int(c) <= 28 else 3 for c in SECTOR_CODES])
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
    return w, f"employment structure of yearbook data year {yy}, value added of {year}"


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
