"""Inter-city industrial transfer measured from changes in induced output.

Conventions
-----------
* ``X_t[i, s, j]``: output of city i, sector s induced by the final demand of
  city j in year t (10k yuan), from :func:`intercity.mrio.induced_output`.
* ``dX[i, s, j] = X_t1[i, s, j] - X_t0[i, s, j]`` is the transfer FROM city j
  TO city i (j's demand is increasingly served by i's production).
* For the ordered pair (origin i, destination j) the transfer from i to j is
  ``T_ij = sum_(s in group) dX[j, s, i]`` (all sectors for the total).
* ``IT_ij = sign(T_ij) * ln(1 + |T_ij|)`` (signed log) with T expressed in the money unit
  ``money_unit`` (:data:`intercity.params.MONEY_UNITS`; default "10k yuan", the unit of the MRIO tables and the
  study's deck); ``IT_direction = 1 if T_ij > 0 else 0``. The signed log is not unit-free:
  ln(1 + c|T|) is about c|T| where c|T| is small and ln c + ln|T| where it is large, so the same
  transfers in another unit can change the sign of a regression on IT (see :func:`it_variables`).

Tables are long, one row per ordered pair ``origin != dest``, rows ordered by
origin then destination in the order of ``cities``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from intercity import mrio as mrio_mod
from intercity.params import MONEY_UNITS
from intercity.sectors import SECTOR_GROUPS

if TYPE_CHECKING:
    from intercity.schema import StudyData

__all__ = [
    "to_money_unit",
    "it_variables",
    "signed_log",
    "direction",
    "pair_transfer",
    "period_transfer",
    "received_transfer",
    "period_label",
    "measure",
    "positive_shares",
    "national_growth",
]


#: The study's unit (its deck reports the MRIO tables in 10k yuan); the parameter ``money_unit``
#: (:class:`intercity.params.Params`) chooses another of :data:`intercity.params.MONEY_UNITS`.
DEFAULT_MONEY_UNIT = "10k yuan"


def to_money_unit(x, money_unit: str):
    """Amounts in 10k yuan (arrays, scalars, Series) expressed in ``money_unit``: ``x`` divided by
    the unit's size in 10k yuan (:data:`intercity.params.MONEY_UNITS`; e.g. 1 (10k yuan) = 10,000
    yuan = 0.0001 100 million yuan).

    Raises ``ValueError`` naming the allowed units when ``money_unit`` is not one of them.
    """
    if money_unit not in MONEY_UNITS:
        raise ValueError(f"money_unit {money_unit!r} is not known: allowed {list(MONEY_UNITS)}")
    return x / MONEY_UNITS[money_unit]


def signed_log(x):
    """``sign(x) * ln(1 + |x|)`` elementwise; arrays, scalars and Series (index kept).

    Odd, monotone, 0 -> 0, NaN -> NaN. Depends on the unit of ``x`` (convert first with
    :func:`to_money_unit`).
    """
    return np.sign(x) * np.log1p(np.abs(x))


def direction(x):
    """1 where ``x > 0`` else 0 (int8); arrays, scalars and Series (index kept).

    Raises ``ValueError`` on NaN, which has no direction.
    """
    arr = np.asarray(x, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError("direction() of NaN is undefined")
    if isinstance(x, pd.Series):
        return (x > 0).astype("int8")
    out = (arr > 0).astype(np.int8)
    return out if out.ndim else out.item()


def period_label(t0: int, t1: int) -> str:
    """``"2012-2015"``."""
    return f"{t0}-{t1}"


def _group_indices(groups: Mapping[str, Sequence[str]], sectors: tuple[str, ...]) -> dict[str, np.ndarray]:
    pos = {c: k for k, c in enumerate(sectors)}
    out = {}
    for name, codes in groups.items():
        missing = [c for c in codes if c not in pos]
        if missing:
            raise ValueError(f"group {name!r}: sector codes {missing} not in sectors")
        out[name] = np.array([pos[c] for c in codes], dtype=np.intp)
    return out


def _check_induced(x: np.ndarray, n: int, S: int, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (n, S, n):
        raise ValueError(f"{name} has shape {x.shape}, expected {(n, S, n)} (cities, sectors, cities)")
    return x


def pair_transfer(
    x0: np.ndarray,
    x1: np.ndarray,
    cities: Sequence[str],
    sectors: Sequence[str],
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Transfer between every ordered pair of distinct cities from ``x0`` (year t0) to ``x1`` (t1).

    ``x0``, ``x1``: induced output (n, S, n), 10k yuan. Returns columns
    ``origin``, ``dest``, ``transfer`` (all sectors) and ``transfer_<group>``
    for each group (default :data:`intercity.sectors.SECTOR_GROUPS`), with
    ``transfer = T_(origin, dest) = sum_s dX[dest, s, origin]`` in 10k yuan;
    ``n (n - 1)`` rows, origin-major in the order of ``cities``.
    """
    cities = tuple(str(c) for c in cities)
    sectors = tuple(str(s) for s in sectors)
    n, S = len(cities), len(sectors)
    if len(set(cities)) != n:
        raise ValueError("duplicate city ids")
    gidx = _group_indices(SECTOR_GROUPS if groups is None else groups, sectors)
    dX = _check_induced(x1, n, S, "x1") - _check_induced(x0, n, S, "x0")

    origin, dest = np.nonzero(~np.eye(n, dtype=bool))  # row-major: origin-major order
    city_arr = np.array(cities, dtype=object)
    cols: dict[str, object] = {
        "origin": pd.array(city_arr[origin], dtype="str"),
        "dest": pd.array(city_arr[dest], dtype="str"),
    }
    # T[i, j] = sum_s dX[j, s, i]  ->  (dest, origin) summed over sectors, transposed
    cols["transfer"] = dX.sum(axis=1).T[origin, dest]
    for name, idx in gidx.items():
        cols[f"transfer_{name}"] = dX[:, idx, :].sum(axis=1).T[origin, dest]
    return pd.DataFrame(cols)


def it_variables(transfers: pd.DataFrame, money_unit: str = DEFAULT_MONEY_UNIT) -> pd.DataFrame:
    """The study's IT variables from a table of transfers in 10k yuan, in ``money_unit``.

    The one place where the money unit enters: ``IT = signed_log(to_money_unit(transfer, unit))``,
    ``IT_<group>`` likewise from every ``transfer_<group>`` column, ``IT_direction =
    direction(transfer)`` (unit-free). The ``transfer*`` columns stay in 10k yuan. Returns a copy
    with those columns (re)written; raises ``ValueError`` for an unknown unit.
    """
    out = transfers.copy()
    amount = lambda col: to_money_unit(transfers[col].to_numpy(dtype=np.float64), money_unit)  # noqa: E731
    out["IT"] = signed_log(amount("transfer"))
    out["IT_direction"] = direction(transfers["transfer"].to_numpy(dtype=np.float64))
    for col in [c for c in transfers.columns if c.startswith("transfer_")]:
        out["IT_" + col[len("transfer_"):]] = signed_log(amount(col))
    return out


def period_transfer(
    induced: Mapping[int, np.ndarray],
    periods: Sequence[tuple[int, int]],
    cities: Sequence[str],
    sectors: Sequence[str],
    groups: Mapping[str, Sequence[str]] | None = None,
    money_unit: str = DEFAULT_MONEY_UNIT,
) -> pd.DataFrame:
    """Pair transfers for each period, stacked, with the study's IT variables.

    ``induced[year]``: induced output (n, S, n) of that year, 10k yuan.
    Columns: ``period`` ("2012-2015"), ``origin``, ``dest``, ``transfer``,
    ``transfer_<group>``... (10k yuan), then :func:`it_variables` in ``money_unit``: ``IT``,
    ``IT_direction``, ``IT_<group>``.... Rows: periods in the given order, then origin, dest as in
    :func:`pair_transfer`.
    """
    to_money_unit(1.0, money_unit)  # an unknown unit fails before the work
    frames = []
    for t0, t1 in periods:
        for year in (t0, t1):
            if year not in induced:
                raise KeyError(f"no induced output for year {year} (have {sorted(induced)})")
        df = pair_transfer(induced[t0], induced[t1], cities, sectors, groups)
        df.insert(0, "period", period_label(t0, t1))
        frames.append(df)
    if not frames:
        raise ValueError("no periods given")
    return it_variables(pd.concat(frames, ignore_index=True), money_unit)


def received_transfer(
    pairs: pd.DataFrame, cities: Sequence[str] | None = None, value: str = "transfer"
) -> pd.DataFrame:
    """Per-city totals of a pair table (:func:`pair_transfer` or :func:`period_transfer`).

    ``inflow`` of city c = sum over origins of ``T_(origin, c)`` (transfer into c),
    ``outflow`` = sum over destinations of ``T_(c, dest)``, ``net = inflow - outflow``,
    all signed, 10k yuan, from column ``value``. Columns: ``city``, ``period``
    (if ``pairs`` has one), ``inflow``, ``outflow``, ``net``; rows by period
    (order of appearance) then city (order of ``cities``, default order of
    appearance among origins then destinations).

    Every city of ``cities`` must appear in the pair table (of every period) and every city of the
    pair table must be in ``cities``: an unknown id raises ``ValueError`` naming it, never a zero
    flow (a city with no pair in the table has no measured transfer, not a transfer of 0).
    """
    if cities is None:
        cities = pd.unique(pd.concat([pairs["origin"], pairs["dest"]], ignore_index=True))
    cities = [str(c) for c in cities]
    has_period = "period" in pairs.columns
    periods = list(pd.unique(pairs["period"])) if has_period else [None]
    frames = []
    for p in periods:
        sub = pairs[pairs["period"] == p] if has_period else pairs
        present = set(sub["origin"].astype(str)) | set(sub["dest"].astype(str))
        where = f" in period {p}" if has_period else ""
        absent = [c for c in cities if c not in present]
        if absent:
            raise ValueError(f"received_transfer: city id(s) {absent[:5]} ({len(absent)} in all) have no "
                             f"pair in the transfer table{where}; their flows are unknown, not zero")
        unknown = sorted(present - set(cities))
        if unknown:
            raise ValueError(f"received_transfer: the transfer table{where} has city id(s) {unknown[:5]} "
                             f"({len(unknown)} in all) that are not in `cities`")
        inflow = sub.groupby("dest", sort=False)[value].sum().reindex(cities, fill_value=0.0)
        outflow = sub.groupby("origin", sort=False)[value].sum().reindex(cities, fill_value=0.0)
        df = pd.DataFrame(
            {
                "city": pd.array(cities, dtype="str"),
                "inflow": inflow.to_numpy(dtype=np.float64),
                "outflow": outflow.to_numpy(dtype=np.float64),
            }
        )
        if has_period:
            df.insert(1, "period", p)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["net"] = out["inflow"] - out["outflow"]
    return out


def measure(data: "StudyData", periods: Sequence[tuple[int, int]],
            log=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Induced output for every MRIO year of a bundle, the pair transfers of every period
    (:func:`period_transfer`), and per-year checks.

    An MRIO may hold cities the panel lacks (a CEADs table): they stay in the Leontief system, so
    their demand still induces output in the panel's cities; only the panel's cities enter the
    transfers. Checks per year: the form, cities, sectors, seconds of the solve, the solver, and
    the largest gap between the induced output summed over cities and the national Leontief
    solution (relative to national output; exact for a structured system, aggregation bias for a
    dense one). Dense systems (a CEADs table) are solved by :func:`intercity.mrio.solve_dense`
    (one LU for every demanding city), whose relative residual ``max|F - (I - A) X| / max|F|`` is
    recorded. For the first year of a structured system the dense path is also run (the full city
    x sector matrix and its LU), and the largest gap between the two forms is recorded (relative
    to the largest induced output): both forms run in every build. ``log`` (a callable taking one
    line) hears of each year solved.
    """
    log = log or (lambda _m: None)
    induced, checks = {}, []
    years = sorted(data.mrio)
    for k, (year, m) in enumerate(sorted(data.mrio.items())):
        log(f"measurement: MRIO {year} ({k + 1}/{len(years)}, {type(m).__name__}, {m.n_cities} cities x "
            f"{m.n_sectors} sectors) ...")
        t0 = time.perf_counter()
        if isinstance(m, mrio_mod.DenseMRIO):
            mrio_mod.validate(m, year)
            X, info = mrio_mod.solve_dense(m, label=year)
            x = X.reshape(m.n_cities, m.n_sectors, m.n_cities)
            del X
            solver = (f"LU, single precision, {info['refinements']} refinement steps in double" if info["precision"] == "mixed"
                      else "LU, double precision")
            residual = info["residual"]
        else:
            x = mrio_mod.induced_output(m, label=year)
            solver, residual = "Neumann series on the structure (matrix-free)", np.nan
        row = {"year": year, "form": type(m).__name__, "cities": m.n_cities, "sectors": m.n_sectors,
               "seconds": time.perf_counter() - t0, "solver": solver, "residual": residual}
        nat = mrio_mod.national_system(m)  # (a dense year's memory-mapped pages are released after it)
        row["national_gap"] = float(np.abs(x.sum(axis=(0, 2)) - nat.x).max() / np.abs(nat.x).max())
        row["dense_seconds"], row["dense_gap"] = np.nan, np.nan
        if k == 0 and isinstance(m, mrio_mod.StructuredMRIO):
            t0 = time.perf_counter()
            xd = mrio_mod.induced_output(mrio_mod.to_dense(m, label=year), label=year)
            row["dense_seconds"] = time.perf_counter() - t0
            row["dense_gap"] = float(np.abs(xd - x).max() / np.abs(x).max())
            del xd
        log(f"measurement: MRIO {year} solved in {row['seconds']:.1f} s"
            + ("" if np.isnan(row["dense_seconds"]) else f" (dense LU check {row['dense_seconds']:.1f} s)"))
        checks.append(row)
        if tuple(m.cities) != data.city_ids:  # an MRIO wider than the panel (CEADs): keep the panel's cities
            pos = [m.cities.index(c) for c in data.city_ids]
            x = x[np.ix_(pos, range(m.n_sectors), pos)]
        induced[year] = x
    sectors = next(iter(data.mrio.values())).sectors
    transfers = period_transfer(induced, list(periods), data.city_ids, sectors)
    return transfers, pd.DataFrame(checks)


def positive_shares(pairs: pd.DataFrame, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of ordered pairs with a positive transfer, per period and sector group.

    ``pairs``: a :func:`period_transfer` table. ``groups``: group names with a
    ``transfer_<group>`` column (default: every group of :data:`intercity.sectors.SECTOR_GROUPS`
    present); ``"all"`` (the ``transfer`` column, all sectors) comes first. Columns: ``period``,
    ``group``, ``pairs`` (count), ``share_positive`` (in [0, 1]: the mean of ``T > 0``; for
    ``"all"`` this is the mean of IT_direction). Rows by period (order of appearance), then group.
    """
    names = [g for g in SECTOR_GROUPS if f"transfer_{g}" in pairs.columns] if groups is None else list(groups)
    missing = [g for g in names if f"transfer_{g}" not in pairs.columns]
    if missing:
        raise KeyError(f"no transfer column for group(s) {missing} (have {list(pairs.columns)})")
    rows = []
    for p, sub in pairs.groupby("period", sort=False):
        for g in ["all"] + names:
            col = "transfer" if g == "all" else f"transfer_{g}"
            rows.append((p, g, len(sub), float((sub[col] > 0).mean())))
    return pd.DataFrame(rows, columns=["period", "group", "pairs", "share_positive"])


def national_growth(national_output: Mapping[int, np.ndarray], periods: Sequence[tuple[int, int]],
                    sectors: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Growth of national output by sector group over each period: ``x_t1 / x_t0 - 1``.

    ``national_output[year]``: (S,) national output induced by domestic final demand, 10k yuan
    (e.g. :func:`intercity.mrio.national_system` ``.x``: summing the induced output over cities).
    Columns: ``period``, ``group`` (``"all"`` first), ``growth`` (a fraction, -0.12 = -12%).
    """
    sectors = tuple(str(s) for s in sectors)
    gidx = _group_indices(SECTOR_GROUPS if groups is None else groups, sectors)
    rows = []
    for t0, t1 in periods:
        x0, x1 = (np.asarray(national_output[y], dtype=np.float64) for y in (t0, t1))
        for g, idx in [("all", np.arange(len(sectors)))] + list(gidx.items()):
            rows.append((period_label(t0, t1), g, float(x1[idx].sum() / x0[idx].sum() - 1.0)))
    return pd.DataFrame(rows, columns=["period", "group", "growth"])
