"""The StudyData bundle: one validated contract for every data source, cached on disk.

Tables (pandas, long form):
- ``cities``: city_id (6-digit adcode), name_zh, name_en, province, region, lon, lat.
- ``city_year``: city_id, year and the yearbook variables (see ``CITY_YEAR_VARS``), each with a
  ``prov_<variable>`` column: observed, interpolated, imputed or synthetic.
- ``pair_year``: origin, dest, year, hsr_lines, baidu_index (+ provenance columns).
- ``mrio``: {year: MRIO system} over the cities x 42 sectors (10k yuan).
- ``ledger``: stage, kind (city or pair), key, name, reason: every city or pair dropped.
- ``extras``: source-specific tables (e.g. the synthetic HSR lines) and ``meta`` (source, knobs).

Cache: ``<cache>/<source>-<key>/`` holding one parquet file per table, one ``.npz`` per MRIO year
and ``meta.json``. The key hashes the data parameters and the package's source code, so a change
of either rebuilds and a second build with the same inputs reads the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from intercity import paths
from intercity.mrio import DenseMRIO, StructuredMRIO
from intercity.params import Params, digest

CITY_COLUMNS = ("city_id", "name_zh", "name_en", "province", "region", "lon", "lat")
CITY_YEAR_VARS = ("gdp_per_capita", "population", "urbanization", "fdi_gdp", "college_per_pop",
                  "trade_gdp", "gov_exp_gdp", "employment", "fixed_assets", "liquid_assets",
                  "patents")
PAIR_YEAR_VARS = ("hsr_lines", "baidu_index")
LEDGER_COLUMNS = ("stage", "kind", "key", "name", "reason")
PROVENANCE = ("observed", "interpolated", "imputed", "synthetic")


class BundleError(ValueError):
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
            ("ledger entries on pairs and lines", int((self.ledger["kind"] == "pair").sum())),
        ]
        return pd.DataFrame(rows, columns=["quantity", "value"]).astype({"value": str})


def _need(frame: pd.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BundleError(f"table '{table}' lacks column(s) {missing}")


def validate(b: StudyData) -> StudyData:
    """Check the contract; raise :class:`BundleError` naming the table, column and key."""
    _need(b.cities, "cities", CITY_COLUMNS)
    ids = b.cities["city_id"]
    bad = ids[~ids.astype(str).str.fullmatch(r"\d{6}")]
    if len(bad):
        raise BundleError(f"table 'cities': city_id must be a 6-digit adcode, got {bad.iloc[0]!r}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise BundleError(f"table 'cities': duplicate city_id {dup.iloc[0]}")
    for col, lo, hi in (("lon", 73.0, 136.0), ("lat", 3.0, 54.0)):
        off = b.cities[~b.cities[col].between(lo, hi)]
        if len(off):
            raise BundleError(f"table 'cities': {col} of city {off['city_id'].iloc[0]} "
                              f"= {off[col].iloc[0]} outside China ({lo}..{hi})")
    known = set(ids)
    _need(b.city_year, "city_year", ("city_id", "year") + CITY_YEAR_VARS)
    for var in CITY_YEAR_VARS:
        _check_values(b.city_year, "city_year", var, ("city_id", "year"))
    unknown = set(b.city_year["city_id"]) - known
    if unknown:
        raise BundleError(f"table 'city_year': unknown city_id {sorted(unknown)[0]}")
    years = sorted(b.city_year["year"].unique())
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if gaps:
        raise BundleError(f"table 'city_year': year {gaps[0]} missing (years {years[0]}..{years[-1]})")
    counts = b.city_year.groupby("city_id").size()
    short = counts[counts != len(years)]
    if len(short) or len(counts) != len(known):
        cid = short.index[0] if len(short) else sorted(known - set(counts.index))[0]
        raise BundleError(f"table 'city_year': city {cid} lacks some of the years {years}")
    _need(b.pair_year, "pair_year", ("origin", "dest", "year") + PAIR_YEAR_VARS)
    for var in PAIR_YEAR_VARS:
        _check_values(b.pair_year, "pair_year", var, ("origin", "dest", "year"))
    self_pairs = b.pair_year[b.pair_year["origin"] == b.pair_year["dest"]]
    if len(self_pairs):
        raise BundleError(f"table 'pair_year': origin equals dest for city {self_pairs['origin'].iloc[0]}")
    for end in ("origin", "dest"):
        unknown = set(b.pair_year[end]) - known
        if unknown:
            raise BundleError(f"table 'pair_year': unknown {end} city {sorted(unknown)[0]}")
    expected = len(known) * (len(known) - 1)
    per_year = b.pair_year.groupby("year").size()
    incomplete = per_year[per_year != expected]
    if len(incomplete):
        raise BundleError(f"table 'pair_year': year {incomplete.index[0]} has {incomplete.iloc[0]} "
                          f"ordered pairs, expected {expected}")
    pair_years = sorted(b.pair_year["year"].unique())
    if pair_years != years:
        raise BundleError(f"table 'pair_year': years {pair_years} differ from city_year's {years}")
    _need(b.ledger, "ledger", LEDGER_COLUMNS)
    for year, m in b.mrio.items():
        if tuple(m.cities) != tuple(ids):
            raise BundleError(f"MRIO {year}: its city index differs from table 'cities'")
    return b


def _check_values(frame: pd.DataFrame, table: str, var: str, keys: tuple[str, ...]) -> None:
    values = pd.to_numeric(frame[var], errors="coerce")
    bad = frame[values.isna() | (values < 0)]
    if len(bad):
        row = bad.iloc[0]
        where = ", ".join(f"{k}={row[k]}" for k in keys)
        raise BundleError(f"table '{table}': {var} = {row[var]!r} at {where} (must be a number >= 0)")
    prov = f"prov_{var}"
    if prov in frame.columns:
        odd = frame[~frame[prov].astype(str).isin(PROVENANCE)]
        if len(odd):
            raise BundleError(f"table '{table}': {prov} = {odd[prov].iloc[0]!r}; allowed {list(PROVENANCE)}")


# --------------------------------------------------------------------------- cache

def _code_digest() -> str:
    """sha256 over the package's source files: a code change invalidates cached data."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _inputs_digest(source: str) -> str:
    """sha256 of the input files' manifest for file-based sources (its rows carry each file's
    sha256), so new input files give a new cache key; empty for the synthetic world."""
    if source != "public":
        return ""
    from intercity.sources import fetch

    return hashlib.sha256(fetch.MANIFEST.read_bytes()).hexdigest()[:16]


def cache_key(params: Params, source: str | None = None) -> str:
    """Directory name of the cached bundle for these parameters, inputs and this code."""
    source = source or params.data_source
    key = {**params.data_key(), "data_source": source}
    return f"{source}-{digest({'data': key, 'code': _code_digest(), 'inputs': _inputs_digest(source)})}"


def cache_path(params: Params, source: str, cache_dir: Path | None = None) -> Path:
    """The folder holding the cached bundle (and the results derived from it) for ``source``."""
    return Path(cache_dir or paths.CACHE_DIR) / cache_key(params, source)


def resolve_source(params: Params) -> tuple[str, str]:
    """The concrete source for ``params`` and a sentence saying how it was chosen.

    ``auto`` fetches the public files (copy from the mirror, else download; every file
    checksum-verified) and resolves to ``public`` when that succeeds, else to ``synthetic``.
    """
    if params.data_source != "auto":
        return params.data_source, ""
    from intercity.sources import fetch

    try:
        fetch.fetch()
    except Exception as err:  # any failure to have the files means: fall back, and say why
        return "synthetic", (f"data_source 'auto' fell back to the synthetic world: the public "
                             f"input files could not be had ({err})")
    return "public", "data_source 'auto' resolved to the public source: every input file was found and verified"


def _save_mrio(path: Path, m: StructuredMRIO | DenseMRIO) -> None:
    if isinstance(m, StructuredMRIO):
        np.savez(path, form="structured", cities=np.array(m.cities), sectors=np.array(m.sectors),
                 a_nat=m.a_nat, shares=m.shares, final_demand=m.final_demand)
    else:
        np.savez(path, form="dense", cities=np.array(m.cities), sectors=np.array(m.sectors),
                 Z=m.Z, F=m.F, x=m.x)


def _load_mrio(path: Path) -> StructuredMRIO | DenseMRIO:
    with np.load(path, allow_pickle=False) as z:
        common = {"cities": tuple(str(c) for c in z["cities"]), "sectors": tuple(str(s) for s in z["sectors"])}
        if str(z["form"]) == "structured":
            return StructuredMRIO(a_nat=z["a_nat"], shares=z["shares"], final_demand=z["final_demand"], **common)
        return DenseMRIO(Z=z["Z"], F=z["F"], x=z["x"], **common)


def save(b: StudyData, directory: Path) -> None:
    """Write the bundle to ``directory`` (replaced atomically via a temporary sibling)."""
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("cities", "city_year", "pair_year", "ledger"):
        getattr(b, name).to_parquet(tmp / f"{name}.parquet", index=False)
    for name, frame in b.extras.items():
        frame.to_parquet(tmp / f"extra_{name}.parquet", index=False)
    for year, m in b.mrio.items():
        _save_mrio(tmp / f"mrio_{year}.npz", m)
    (tmp / "meta.json").write_text(json.dumps({"source": b.source, "meta": b.meta,
                                               "mrio_years": sorted(b.mrio), "extras": sorted(b.extras)},
                                              indent=2, sort_keys=True, default=str))
    if (directory / "meta.json").is_file():  # another process cached the same bundle meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        return
    shutil.rmtree(directory, ignore_errors=True)  # a partial directory from an interrupted run
    try:
        tmp.rename(directory)
    except OSError:  # another process cached the same bundle meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def load_cached(directory: Path) -> StudyData:
    """Read a bundle written by :func:`save`."""
    info = json.loads((directory / "meta.json").read_text())
    tables = {name: pd.read_parquet(directory / f"{name}.parquet")
              for name in ("cities", "city_year", "pair_year", "ledger")}
    extras = {name: pd.read_parquet(directory / f"extra_{name}.parquet") for name in info["extras"]}
    mrio = {int(y): _load_mrio(directory / f"mrio_{y}.npz") for y in info["mrio_years"]}
    return StudyData(source=info["source"], mrio=mrio, extras=extras, meta=info["meta"], **tables)


def build(params: Params, source: str | None = None) -> StudyData:
    """Build the bundle from its source (no cache); ``source`` overrides ``params.data_source``
    (used once ``auto`` is resolved)."""
    source = source or params.data_source
    years = list(range(min(params.mrio_years) - 1, max(params.mrio_years) + 1))
    if source == "synthetic":
        from intercity.sources import synthetic

        raw = synthetic.generate(params.n_cities, params.seed, years, list(params.periods),
                                 params.mrio_years)
        return validate(StudyData(
            source="synthetic", cities=raw["cities"], city_year=raw["city_year"],
            pair_year=raw["pair_year"], mrio=raw["mrio"], ledger=raw["ledger"],
            extras={"hsr_lines": raw["hsr_lines"]},
            meta={"knobs": raw["knobs"], "n_cities": params.n_cities, "seed": params.seed}))
    if source == "public":
        from intercity.sources import public

        raw = public.build(None if params.scale == 1 else params.n_cities, params.seed, years,
                           list(params.periods), params.mrio_years)
        return validate(StudyData(
            source="public", cities=raw["cities"], city_year=raw["city_year"],
            pair_year=raw["pair_year"], mrio=raw["mrio"], ledger=raw["ledger"],
            extras={"hsr_lines": raw["hsr_lines"]}, meta=raw["meta"]))
    raise BundleError(f"data_source '{source}' has no builder")


def load(params: Params, cache_dir: Path | None = None, refresh: bool = False) -> StudyData:
    """The bundle for ``params``: from the cache when present, else built and cached.

    ``auto`` is resolved first (:func:`resolve_source`); the bundle's ``meta["resolution"]``
    says what was chosen and why, and the book shows it.
    """
    source, note = resolve_source(params)
    directory = cache_path(params, source, cache_dir)
    if directory.joinpath("meta.json").is_file() and not refresh:
        b = load_cached(directory)
    else:
        b = build(params, source)
        save(b, directory)
    b.meta["resolution"] = note
    return b
