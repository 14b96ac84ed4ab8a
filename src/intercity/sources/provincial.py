"""Real provincial gross output by sector, and the constraint it puts on the city output of the
public source's stand-in MRIO.

**The file.** ``national_io/provincial_output_42.mat`` (data manifest; original name
``ProIOT_Totals.mat`` of the interprovincial IO database abumazan/Interprovincial-IO-database)
holds gross output, 100 million yuan, as 42 sectors x 31 provinces per year (fields
``total2012``, ``total2017``; also 1997, 2002, 2007, not used). Neither axis is labelled; both
orders were established from the data and are tested on the real file
(``tests/test_provincial.py``):

- **Columns** are the 31 provinces in the standard NBS order, i.e. ascending province code
  (:data:`PROVINCES`: 11 Beijing ... 65 Xinjiang). Evidence: the Spearman correlation of the
  provincial totals with the provincial sums of the cities' nominal GDP (G-P panel) is 0.97 in
  2012 and 2017; coal mining is largest in Shanxi (25% in 2012, 28% in 2017), then Shaanxi and
  Inner Mongolia; petroleum and gas extraction in Heilongjiang, Xinjiang, Shaanxi (and Tianjin in
  2017); electronics in Guangdong (34%, 36%) then Jiangsu; information and software in Beijing.
- **Rows** follow NBS's 42-sector list of the year: 2012 rows the 2012 list, 2017 rows the 2017
  list (whose codes from 23 on are one lower). Mapped to the book's 41 sectors through the sector
  concordance (:func:`intercity.sectors.nbs_sectors`, :func:`~intercity.sectors.aggregation_matrix`),
  the log output by sector correlates 0.99 with the national table of the same year; the
  provincial totals are 96% (2012) and 105% (2017) of the national tables' gross output, so only
  the provinces' *shares* of each sector are used.

There is no 2015 table: the 2015 shares are the linear interpolation of the 2012 and 2017 shares
(0.4 x 2012 + 0.6 x 2017), flagged as interpolated wherever they are used.

**The constraint** (:func:`constrain`, used by :func:`intercity.sources.national_io.sector_weights`):
within each province and sector the sample cities' output sums to the province's share of
national output in that sector, adjusted for the part of the province the sample covers
(:func:`coverage`); within a province, cities share it by the unconstrained rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from intercity.sectors import N_SECTORS, SECTOR_CODES, ConcordanceError, aggregation_matrix, nbs_sectors
from intercity.sources.fetch import raw_path

#: The file, as listed in ``data/manifest.csv``.
FILE = "national_io/provincial_output_42.mat"
#: Its years used here (fields ``total<year>``).
YEARS: tuple[int, ...] = (2012, 2017)
#: Unit of the file's values.
UNIT = "100 million yuan"
#: Province codes (first two adcode digits) in the file's column order: the standard NBS order.
PROVINCES: tuple[str, ...] = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
                              "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
                              "53", "54", "61", "62", "63", "64", "65")
#: Short names of the provinces, for messages and the book.
PROVINCE_NAMES: dict[str, str] = dict(zip(PROVINCES, (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆")))


def read_provincial_output(raw_dir: Path | str | None = None, years: tuple[int, ...] = YEARS
                           ) -> dict[int, np.ndarray]:
    """Provincial gross output on the book's sectors: {year: array (31 provinces, S)}, 100m yuan.

    Rows of each ``total<year>`` field (42 NBS sectors of that year, in NBS order) are mapped to
    the book's ``S = N_SECTORS`` sectors through the concordance of that year (by description,
    :func:`intercity.sectors.nbs_sectors`); provinces are in the order of :data:`PROVINCES`.
    The file is read from ``raw_dir`` (default ``data/raw``, then the data mirror).

    Raises :class:`~intercity.sources.fetch.FetchError` if the file is absent, ValueError naming
    the file and the field if it is not a MATLAB file, lacks a ``total<year>`` field, has another
    shape than (42, 31), or holds a negative or non-finite value (naming row, sector, column and
    province); :class:`~intercity.sectors.ConcordanceError` for a year without an NBS 42-sector list.
    """
    from scipy.io import loadmat

    path = raw_path(FILE, raw_dir)
    try:
        mat = loadmat(path)
    except Exception as err:  # scipy raises several types for a file that is not a .mat
        raise ValueError(f"{path}: not a MATLAB .mat file scipy can read ({type(err).__name__}: {err})") from None
    fields = sorted(k for k in mat if not k.startswith("__"))
    out = {}
    for year in years:
        field = f"total{year}"
        if field not in mat:
            raise ValueError(f"{path}: no field {field!r} (have {fields})")
        try:
            sectors = nbs_sectors(year)
        except ConcordanceError as err:
            raise ConcordanceError(f"{path}: field {field}: {err}") from None
        t = np.asarray(mat[field])
        if t.shape != (len(sectors), len(PROVINCES)):
            raise ValueError(f"{path}: field {field} has shape {t.shape}, expected ({len(sectors)}, {len(PROVINCES)}):"
                             f" the {len(sectors)} NBS sectors of {year} x {len(PROVINCES)} provinces")
        if not np.issubdtype(t.dtype, np.number):
            raise ValueError(f"{path}: field {field} holds {t.dtype} values, expected numbers ({UNIT})")
        t = t.astype(float)
        bad = np.argwhere(~np.isfinite(t) | (t < 0))
        if bad.size:
            r, c = (int(v) for v in bad[0])
            raise ValueError(f"{path}: field {field} row {r + 1} (sector {sectors['code'][r]}"
                             f" {sectors['description_en'][r]}), column {c + 1} (province {PROVINCES[c]}"
                             f" {PROVINCE_NAMES[PROVINCES[c]]}) is {t[r, c]}: gross output must be finite and >= 0")
        M = aggregation_matrix(sectors["description_zh"], year, what=f"{FILE} {field} row").to_numpy()
        out[year] = (M.T @ t).T
    return out


def shares_of(output: np.ndarray) -> np.ndarray:
    """Each province's share of the sectors' total: ``output / output.sum(axis=0)``, (P, S); a
    sector without output anywhere has zero shares."""
    tot = output.sum(axis=0, keepdims=True)
    return np.divide(output, tot, out=np.zeros_like(output, dtype=float), where=tot > 0)


def provincial_shares(output: dict[int, np.ndarray], year: int) -> tuple[np.ndarray, str]:
    """The provinces' shares of national output by sector in ``year``, (P, S), and how they were had.

    A year of the file: its shares ("observed <year>"). A year between two years of the file: the
    linear interpolation of their shares, ``(1 - a) s[y0] + a s[y1]`` with ``a = (year - y0) / (y1 - y0)``
    (2015: 0.4 x 2012 + 0.6 x 2017), flagged "interpolated ...". Each sector's shares sum to 1.
    Raises ValueError naming the file and the year outside the file's years.
    """
    have = sorted(output)
    if year in output:
        return shares_of(output[year]), f"observed {year}"
    lower, upper = [y for y in have if y < year], [y for y in have if y > year]
    if not lower or not upper:
        raise ValueError(f"{FILE}: no provincial output for {year}, and {year} is not between two of its"
                         f" years {have}: cannot interpolate")
    y0, y1 = lower[-1], upper[0]
    a = (year - y0) / (y1 - y0)
    shares = (1 - a) * shares_of(output[y0]) + a * shares_of(output[y1])
    return shares, (f"interpolated: {1 - a:.1f} x {y0} + {a:.1f} x {y1} shares (no provincial table of {year})")


def province_index(ids: list[str], have: np.ndarray | None = None) -> np.ndarray:
    """Position in :data:`PROVINCES` of each city's province (first two digits of its adcode), or
    -1 where the province is not one of them or ``have[p]`` (provinces with data) is False."""
    pos = {p: k for k, p in enumerate(PROVINCES)}
    idx = np.array([pos.get(str(c)[:2], -1) for c in ids], dtype=int)
    if have is not None:
        idx = np.where((idx >= 0) & np.asarray(have, bool)[np.maximum(idx, 0)], idx, -1)
    return idx


def coverage(ids: list[str], gdp: pd.Series, shares: np.ndarray, nat_va: np.ndarray, universe_ids: list[str],
             outside: dict[str, tuple[str, ...]]) -> tuple[np.ndarray, dict]:
    """The share ``kappa[p]`` of each province's economy that the sample cities ``ids`` make up, (P,).

    ``kappa[p] = c[p] * rho[p]``:

    - ``c[p]`` = GDP of the sample cities of p / GDP of every city of p in ``gdp`` (the city GDP
      panel; 1 at full scale, below 1 when cities were sampled out or dropped);
    - ``rho[p]`` = the share of the province in the cities of the panel. A province is
      *complete* if every prefecture-level unit of it is a city of the universe with a GDP
      (``outside[p]``, its autonomous prefectures, leagues, 地区 and province-administered
      counties, is empty): ``rho = 1``. Otherwise ``rho[p] = q[p] = r[p] / median(r of the
      complete provinces)`` with ``r[p]`` = GDP of p's panel cities / p's estimated value added
      ``sum_s shares[p, s] nat_va[s]`` (its share of national output of each sector times the
      sector's national value added); dividing by the median calibrates the usual gap between
      summed city GDP and provincial value added. ``q`` scatters between about 0.8 and 1.4 over the
      complete provinces (city GDP overstatement, the national value-added ratios), so a ``q[p]``
      not below the lowest ``q`` of a complete province is taken as complete coverage (``rho =
      1``): only gaps larger than the estimator's own noise count (Xinjiang, Tibet, Qinghai,
      Hainan, Guizhou and Yunnan at full scale).

    ``gdp``: nominal GDP of the year by city_id (any unit); ``nat_va``: national value added by
    sector (S,). Returns (kappa, info: c, rho, q, the lowest q of a complete
    province and the complete provinces).
    Without this adjustment, the two sample cities of Xinjiang would carry all of Xinjiang's
    output (they hold about 35% of it).
    """
    P = len(PROVINCES)
    g = pd.to_numeric(gdp, errors="coerce")
    g = g[np.isfinite(g) & (g > 0)]
    g_prov = province_index(list(g.index))
    panel_gdp = np.bincount(g_prov[g_prov >= 0], weights=g.to_numpy()[g_prov >= 0], minlength=P)
    sample = g.reindex([c for c in ids if c in g.index])
    s_prov = province_index(list(sample.index))
    sample_gdp = np.bincount(s_prov[s_prov >= 0], weights=sample.to_numpy()[s_prov >= 0], minlength=P)
    c = np.divide(sample_gdp, panel_gdp, out=np.zeros(P), where=panel_gdp > 0)
    va = shares @ np.asarray(nat_va, float)
    r = np.divide(panel_gdp, va, out=np.full(P, np.nan), where=va > 0)
    u_prov = province_index(list(universe_ids))
    missing_city = {PROVINCES[p] for p, cid in zip(u_prov, universe_ids) if p >= 0 and cid not in g.index}
    full = np.array([not outside.get(p) and p not in missing_city for p in PROVINCES]) & np.isfinite(r)
    ref = r[full] if full.any() else r[np.isfinite(r)]
    med = float(np.median(ref)) if ref.size else 1.0
    q = np.nan_to_num(r / med, nan=0.0)
    low = float(q[full].min()) if full.any() else 1.0
    rho = np.where(full | (q >= low), 1.0, np.minimum(1.0, q))
    kappa = c * rho
    info = {"c": c, "rho": rho, "q": q, "lowest_complete_q": low,
            "complete": [PROVINCES[p] for p in np.flatnonzero(full)]}
    return kappa, info


@dataclass(frozen=True)
class ProvincialTargets:
    """What the constraint of one MRIO year needs: the provinces' shares of national output by
    sector (P, S), the sample's coverage of each province (P,), and how the shares were had."""

    year: int
    shares: np.ndarray
    kappa: np.ndarray
    source: str

    def has_data(self) -> np.ndarray:
        """(P,) True for the provinces with provincial output in some sector."""
        return self.shares.sum(axis=1) > 0


def targets(output: dict[int, np.ndarray], year: int, ids: list[str], gdp: pd.Series, nat: dict[str, np.ndarray],
            universe_ids: list[str], outside: dict[str, tuple[str, ...]]) -> tuple[ProvincialTargets, dict]:
    """The :class:`ProvincialTargets` of ``year`` for the sample cities ``ids``: shares from
    :func:`provincial_shares` (observed or interpolated), coverage from :func:`coverage` (``gdp``:
    the city GDP panel of ``year``; ``nat``: the national table of ``year``, with ``x`` and ``va``).
    Returns (targets, coverage info)."""
    shares, source = provincial_shares(output, year)
    kappa, info = coverage(ids, gdp, shares, nat["va"], universe_ids, outside)
    return ProvincialTargets(year=year, shares=shares, kappa=kappa, source=source), info


def constrain(w0: np.ndarray, province: np.ndarray, shares: np.ndarray, kappa: np.ndarray
              ) -> tuple[np.ndarray, dict]:
    """City x sector weights whose province sums follow the provincial data.

    ``w0`` (n, S) >= 0: the unconstrained weights (any scale per sector); ``province`` (n,):
    index of each city's province in ``shares`` (P, S) (-1: no provincial data); ``kappa`` (P,):
    coverage of each province by the cities (:func:`coverage`). With ``b = w0 / w0.sum(axis=0)``
    (the unconstrained rule), ``U`` the cities without provincial data and ``u[s] = sum_{i in U}
    b[i, s]``, the result is

    - ``w[i, s] = b[i, s]`` for i in U (the unconstrained rule);
    - ``w[i, s] = (1 - u[s]) * t[p, s] * w0[i, s] / sum_{k in p} w0[k, s]`` for a city i of
      province p, with ``t[p, s] = kappa[p] shares[p, s] / sum_q kappa[q] shares[q, s]``.

    So every column sums to 1 (national output ``x[s] * w[:, s]`` sums to ``x[s]``), and the cities
    of p hold the share ``(1 - u[s]) t[p, s]`` of sector s: the province's share of national output
    when the sample covers every province fully (kappa = 1) and every city has data. Fallbacks,
    reported in ``info``: a sector no covered province produces keeps the unconstrained rule
    (``info["unconstrained_sectors"]``); a province with output in s whose cities have no weight
    in s shares it by the cities' total weight (``info["size_split"]``, (province, sector) pairs:
    codes when ``shares`` is on :data:`PROVINCES` x the book's sectors, else positions). Example:
    the 2015 yearbook has no employment for Chongqing, whose unconstrained weights are then
    agriculture only; constrained, it gets Chongqing's provincial output by sector.
    Raises ValueError for mismatched shapes or negative weights.
    """
    w0 = np.asarray(w0, float)
    n, S = w0.shape
    province = np.asarray(province, int)
    P = shares.shape[0]
    if province.shape != (n,) or shares.shape[1] != S or np.shape(kappa) != (P,):
        raise ValueError(f"constrain: weights {w0.shape}, provinces {province.shape}, shares {shares.shape},"
                         f" coverage {np.shape(kappa)} do not match")
    if (w0 < 0).any() or not np.isfinite(w0).all():
        raise ValueError("constrain: weights must be finite and >= 0")
    if province.max(initial=-1) >= P:
        raise ValueError(f"constrain: province index {province.max()} >= {P} provinces")
    col = w0.sum(axis=0, keepdims=True)
    b = np.divide(w0, col, out=np.zeros_like(w0), where=col > 0)
    free = province < 0
    u = b[free].sum(axis=0)
    present = np.bincount(province[~free], minlength=P) > 0
    k = np.where(present, np.asarray(kappa, float), 0.0)
    num = k[:, None] * shares
    den = num.sum(axis=0)
    t = np.divide(num, den[None, :], out=np.zeros_like(num), where=den[None, :] > 0)
    onehot = np.zeros((n, P))
    onehot[np.flatnonzero(~free), province[~free]] = 1.0
    within = onehot.T @ w0  # (P, S): provinces' unconstrained sums
    size = onehot.T @ w0.sum(axis=1)  # (P,)
    w = np.zeros_like(w0)
    w[free] = b[free]
    size_split = []
    rows = np.flatnonzero(~free)
    pr = province[rows]
    by_sector = np.divide(w0[rows], within[pr], out=np.zeros((rows.size, S)), where=within[pr] > 0)
    lacking = (within <= 0) & (t > 0)
    if lacking.any():
        by_size = np.divide(w0[rows].sum(axis=1), size[pr], out=np.zeros(rows.size), where=size[pr] > 0)
        for p, s in zip(*np.nonzero(lacking)):
            by_sector[pr == p, s] = by_size[pr == p]
            size_split.append((PROVINCES[p] if P == len(PROVINCES) else str(p), SECTOR_CODES[s] if S == N_SECTORS else str(s)))
    w[rows] = (1.0 - u)[None, :] * t[pr] * by_sector
    unconstrained = np.flatnonzero(den <= 0)
    w[:, unconstrained] = b[:, unconstrained]
    info = {"unconstrained_sectors": [SECTOR_CODES[s] if S == N_SECTORS else str(s) for s in unconstrained
                                      if col[0, s] > 0],
            "size_split": size_split, "cities_without_province_data": int(free.sum())}
    return w, info


def misallocation(w: np.ndarray, province: np.ndarray, shares: np.ndarray, kappa: np.ndarray,
                  weights: np.ndarray) -> float:
    """Share of national output that city weights ``w`` (n, S) put in another province than the
    provincial data do: the output-weighted mean over sectors of the dissimilarity index
    ``0.5 sum_p |a[p, s] - t[p, s]|``, where ``a`` = the provinces' shares under ``w`` and ``t`` =
    the coverage-adjusted provincial shares (as in :func:`constrain`). 0 for constrained weights;
    ``weights`` (S,) is national output. Cities with ``province = -1`` are left out."""
    keep = province >= 0
    w = np.asarray(w, float)[keep]
    pr = province[keep]
    P = shares.shape[0]
    a = np.zeros((P, w.shape[1]))
    np.add.at(a, pr, w)
    a = shares_of(a)
    present = np.bincount(pr, minlength=P) > 0
    t = shares_of(np.where(present, kappa, 0.0)[:, None] * shares)
    d = 0.5 * np.abs(a - t).sum(axis=0)
    x = np.asarray(weights, float)
    return float((d * x).sum() / x.sum())
