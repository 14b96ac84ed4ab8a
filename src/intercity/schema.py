"""The StudyData bundle's contract: its tables, columns, provenance values and validation.

Every data source (:mod:`intercity.sources`) returns a :class:`StudyData`; nothing here knows any
source. Tables (pandas, long form):

- ``cities``: city_id (6-digit adcode), name_zh, name_en, province, region, lon, lat.
- ``city_year``: city_id, year and the yearbook variables (:data:`CITY_YEAR_VARS`), each with a
  ``prov_<variable>`` column holding one of :data:`PROVENANCE`.
- ``pair_year``: origin, dest, year, hsr_lines, baidu_index (+ provenance columns); every ordered
  pair of distinct cities in every year.
- ``mrio``: {year: MRIO system} on cities x the book's 41 sectors (:mod:`intercity.sectors`; 10k yuan). Its city index holds every
  city of ``cities`` and may hold more (a CEADs table covers cities the panel lacks: their demand
  still induces output, so they stay in the system; the source writes them to the ledger).
- ``ledger``: stage, kind (city or pair), key, name, reason: every city or pair dropped.
- ``extras``: source-specific tables (e.g. HSR lines) and ``meta`` (source, knobs, notes).

Helpers build the long frames every source needs (:func:`ledger_frame`, :func:`pair_year_frame`,
:func:`city_year_frame`), so sources do not each rebuild them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from intercity.mrio import DenseMRIO, StructuredMRIO

CITY_COLUMNS = ("city_id", "name_zh", "name_en", "province", "region", "lon", "lat")
CITY_YEAR_VARS = ("gdp_per_capita", "population", "urbanization", "fdi_gdp", "college_per_pop",
                  "trade_gdp", "gov_exp_gdp", "employment", "fixed_assets", "liquid_assets",
                  "patents")
PAIR_YEAR_VARS = ("hsr_lines", "baidu_index")
LEDGER_COLUMNS = ("stage", "kind", "key", "name", "reason")
#: Provenance of a value, from most to least reliable: observed in a source file, interpolated
#: between observed years, a proxy (another quantity standing in for the variable; the source's
#: ``meta["variables"]`` names what stands in), imputed (a constant or a model value), synthetic
#: (generated), user (the user's own file, e.g. a CEADs holder's city panel).
PROVENANCE = ("observed", "interpolated", "proxy", "imputed", "synthetic", "user")


class SchemaError(ValueError):
    """The bundle breaks its contract; the message names the table, column and offending key."""


@dataclass
class StudyData:
    """Everything the measurement and the econometrics need, from one source."""

    source: str
    cities: pd.DataFrame
    city_year: pd.DataFrame
    pair_year: pd.DataFrame
    mrio: dict[int, StructuredMRIO | DenseMRIO]
    ledger: pd.DataFrame
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def city_ids(self) -> tuple[str, ...]:
        return tuple(self.cities["city_id"])

    def summary(self) -> pd.DataFrame:
        """One row per quantity: what the bundle holds (for the book and ``results/``)."""
        n = len(self.cities)
        years = sorted(self.city_year["year"].unique())
        rows = [
            ("data source", self.source),
            ("cities", n),
            ("ordered city pairs", n * (n - 1)),
            ("years of city and pair data", f"{years[0]}-{years[-1]}"),
            ("MRIO years", ", ".join(str(y) for y in sorted(self.mrio))),
            ("sectors", len(next(iter(self.mrio.values())).sectors)),
            ("ledger entries on cities (dropped or unmatched names)", int((self.ledger["kind"] == "city").sum())),
            ("ledger entries on pairs, HSR lines and stations (every entry not on a city)",
             int((self.ledger["kind"] != "city").sum())),
        ]
        return pd.DataFrame(rows, columns=["quantity", "value"]).astype({"value": str})


def _need(frame: pd.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"table '{table}' lacks column(s) {missing}")


def validate(b: StudyData) -> StudyData:
    """Check the contract; raise :class:`SchemaError` naming the table, column and key."""
    _need(b.cities, "cities", CITY_COLUMNS)
    ids = b.cities["city_id"]
    bad = ids[~ids.astype(str).str.fullmatch(r"\d{6}")]
    if len(bad):
        raise SchemaError(f"table 'cities': city_id must be a 6-digit adcode, got {bad.iloc[0]!r}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(f"table 'cities': duplicate city_id {dup.iloc[0]}")
    for col, lo, hi in (("lon", 73.0, 136.0), ("lat", 3.0, 54.0)):
        off = b.cities[~b.cities[col].between(lo, hi)]
        if len(off):
            raise SchemaError(f"table 'cities': {col} of city {off['city_id'].iloc[0]} "
                              f"= {off[col].iloc[0]} outside China ({lo}..{hi})")
    known = set(ids)
    _need(b.city_year, "city_year", ("city_id", "year") + CITY_YEAR_VARS)
    for var in CITY_YEAR_VARS:
        _check_values(b.city_year, "city_year", var, ("city_id", "year"))
    unknown = set(b.city_year["city_id"]) - known
    if unknown:
        raise SchemaError(f"table 'city_year': unknown city_id {sorted(unknown)[0]}")
    years = sorted(b.city_year["year"].unique())
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if gaps:
        raise SchemaError(f"table 'city_year': year {gaps[0]} missing (years {years[0]}..{years[-1]})")
    counts = b.city_year.groupby("city_id").size()
    short = counts[counts != len(years)]
    if len(short) or len(counts) != len(known):
        cid = short.index[0] if len(short) else sorted(known - set(counts.index))[0]
        raise SchemaError(f"table 'city_year': city {cid} lacks some of the years {years}")
    _need(b.pair_year, "pair_year", ("origin", "dest", "year") + PAIR_YEAR_VARS)
    for var in PAIR_YEAR_VARS:
        _check_values(b.pair_year, "pair_year", var, ("origin", "dest", "year"))
    self_pairs = b.pair_year[b.pair_year["origin"] == b.pair_year["dest"]]
    if len(self_pairs):
        raise SchemaError(f"table 'pair_year': origin equals dest for city {self_pairs['origin'].iloc[0]}")
    for end in ("origin", "dest"):
        unknown = set(b.pair_year[end]) - known
        if unknown:
            raise SchemaError(f"table 'pair_year': unknown {end} city {sorted(unknown)[0]}")
    expected = len(known) * (len(known) - 1)
    per_year = b.pair_year.groupby("year").size()
    incomplete = per_year[per_year != expected]
    if len(incomplete):
        raise SchemaError(f"table 'pair_year': year {incomplete.index[0]} has {incomplete.iloc[0]} "
                          f"ordered pairs, expected {expected}")
    pair_years = sorted(b.pair_year["year"].unique())
    if pair_years != years:
        raise SchemaError(f"table 'pair_year': years {pair_years} differ from city_year's {years}")
    _need(b.ledger, "ledger", LEDGER_COLUMNS)
    for year, m in b.mrio.items():
        missing = [c for c in ids if c not in set(m.cities)]
        if missing:
            raise SchemaError(f"MRIO {year}: city {missing[0]} of table 'cities' is not in the MRIO's "
                              f"city index ({len(missing)} missing)")
    return b


def _check_values(frame: pd.DataFrame, table: str, var: str, keys: tuple[str, ...]) -> None:
    values = pd.to_numeric(frame[var], errors="coerce")
    bad = frame[values.isna() | (values < 0)]
    if len(bad):
        row = bad.iloc[0]
        where = ", ".join(f"{k}={row[k]}" for k in keys)
        raise SchemaError(f"table '{table}': {var} = {row[var]!r} at {where} (must be a number >= 0)")
    prov = f"prov_{var}"
    if prov in frame.columns:
        odd = frame[~frame[prov].astype(str).isin(PROVENANCE)]
        if len(odd):
            raise SchemaError(f"table '{table}': {prov} = {odd[prov].iloc[0]!r}; allowed {list(PROVENANCE)}")


#: Kept for callers of the former name.
BundleError = SchemaError


def fake_ceads(meta: Any) -> dict[str, Any] | None:
    """The fake-tables record of a bundle's ``meta`` (``meta["mrio"]["fake"]``, written by
    :func:`intercity.sources.ceads.fake_evidence` when the CEADs tables are the fake ones written
    from the synthetic world: folders, years, evidence), or None."""
    mrio = meta.get("mrio") if isinstance(meta, Mapping) else None
    fake = mrio.get("fake") if isinstance(mrio, Mapping) else None
    return fake or None


def ledger_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    """A ledger table from (stage, kind, key, name, reason) tuples."""
    return pd.DataFrame(rows or [], columns=list(LEDGER_COLUMNS))


def _categorical(values, name: str) -> pd.Categorical:
    odd = sorted(set(np.asarray(values, dtype=object).ravel()) - set(PROVENANCE))
    if odd:
        raise SchemaError(f"provenance {odd[0]!r} of {name}: allowed {list(PROVENANCE)}")
    return pd.Categorical(np.asarray(values, dtype=object).ravel(), categories=PROVENANCE)


def pair_year_frame(ids, years, values: Mapping[str, np.ndarray],
                    provenance: Mapping[str, str | np.ndarray]) -> pd.DataFrame:
    """The long ``pair_year`` table from (n, n, T) arrays.

    ``values[var][i, j, t]``: the value for origin ``ids[i]``, dest ``ids[j]``, year ``years[t]``;
    ``provenance[var]``: one provenance for every value, or an (n, n, T) array of them. Rows are
    years, then origin, then dest in the order of ``ids``; the diagonal (i == j) is left out.
    """
    ids = np.asarray(list(ids), dtype=object)
    n, T = len(ids), len(years)
    oi, dj = np.nonzero(~np.eye(n, dtype=bool))
    frame = pd.DataFrame({
        "origin": np.tile(ids[oi], T).astype(str),
        "dest": np.tile(ids[dj], T).astype(str),
        "year": np.repeat(np.asarray(years, dtype="int64"), len(oi)),
    })
    for var, arr in values.items():
        arr = np.asarray(arr)
        if arr.shape != (n, n, T):
            raise SchemaError(f"pair_year {var}: shape {arr.shape}, expected {(n, n, T)}")
        frame[var] = np.concatenate([arr[oi, dj, k] for k in range(T)])
    for var, prov in provenance.items():
        if isinstance(prov, str):
            frame[f"prov_{var}"] = _categorical(np.full(len(frame), prov, dtype=object), var)
        else:
            prov = np.asarray(prov, dtype=object)
            frame[f"prov_{var}"] = _categorical(np.concatenate([prov[oi, dj, k] for k in range(T)]), var)
    return frame


def city_year_frame(ids, years, values: Mapping[str, np.ndarray],
                    provenance: Mapping[str, str | np.ndarray]) -> pd.DataFrame:
    """The long ``city_year`` table from (n, T) arrays (rows: city, then year)."""
    ids = list(ids)
    n, T = len(ids), len(years)
    frame = pd.DataFrame({"city_id": np.repeat(np.asarray(ids, dtype=object), T).astype(str),
                          "year": np.tile(np.asarray(years, dtype="int64"), n)})
    for var in values:
        arr = np.asarray(values[var], dtype=float)
        if arr.shape != (n, T):
            raise SchemaError(f"city_year {var}: shape {arr.shape}, expected {(n, T)}")
        frame[var] = arr.reshape(-1)
    for var, prov in provenance.items():
        arr = np.full((n, T), prov, dtype=object) if isinstance(prov, str) else np.asarray(prov, dtype=object)
        frame[f"prov_{var}"] = _categorical(arr, var)
    return frame
