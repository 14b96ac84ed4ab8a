"""The whole data flow for one parameter set, with the expensive step (the MRIO solves) cached.

bundle -> induced output per MRIO year -> pair transfers per period -> pair panel.
Notebooks call :func:`study` once and read what they need from the returned :class:`Study`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from intercity import bundle as bundle_mod
from intercity import models, mrio, panel as panel_mod, transfer
from intercity.params import Params, digest


@dataclass
class Study:
    """Everything derived from one bundle under one parameter set."""

    params: Params
    data: bundle_mod.StudyData
    transfers: pd.DataFrame
    panel: pd.DataFrame
    ledger: pd.DataFrame
    checks: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    cache: Path | None = None

    @property
    def source(self) -> str:
        return self.data.source

    def city_transfer(self) -> pd.DataFrame:
        """Per city and period: inflow, outflow and net transfer (10k yuan), with city names."""
        per_city = transfer.received_transfer(self.transfers, self.data.city_ids)
        names = self.data.cities[["city_id", "name_zh", "name_en", "lon", "lat"]]
        return per_city.merge(names.rename(columns={"city_id": "city"}), on="city", how="left")


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write parquet via a per-process temporary file, so concurrent builds never see half a file."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def measure(data: bundle_mod.StudyData, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Induced output for every MRIO year, the pair transfers of every period, and per-year checks.

    An MRIO may hold cities the panel lacks (a CEADs table): they stay in the Leontief system, so
    their demand still induces output in the panel's cities; only the panel's cities enter the
    transfers. Checks per year: the form, cities, sectors, seconds of the solve, and the largest gap between
    the induced output summed over cities and the national Leontief solution (relative to
    national output). For the first year of a structured system the dense path is also run
    (the full city x sector matrix and its LU), and the largest gap between the two forms is
    recorded (relative to the largest induced output): both forms run in every build.
    """
    induced, checks = {}, []
    for k, (year, m) in enumerate(sorted(data.mrio.items())):
        t0 = time.perf_counter()
        x = mrio.induced_output(m, label=year)
        row = {"year": year, "form": type(m).__name__, "cities": m.n_cities, "sectors": m.n_sectors,
               "seconds": time.perf_counter() - t0}
        nat = mrio.national_system(m)
        row["national_gap"] = float(np.abs(x.sum(axis=(0, 2)) - nat.x).max() / np.abs(nat.x).max())
        row["dense_seconds"], row["dense_gap"] = np.nan, np.nan
        if k == 0 and isinstance(m, mrio.StructuredMRIO):
            t0 = time.perf_counter()
            xd = mrio.induced_output(mrio.to_dense(m, label=year), label=year)
            row["dense_seconds"] = time.perf_counter() - t0
            row["dense_gap"] = float(np.abs(xd - x).max() / np.abs(x).max())
            del xd
        checks.append(row)
        if tuple(m.cities) != data.city_ids:  # an MRIO wider than the panel (CEADs): keep the panel's cities
            pos = [m.cities.index(c) for c in data.city_ids]
            x = x[np.ix_(pos, range(m.n_sectors), pos)]
        induced[year] = x
    sectors = next(iter(data.mrio.values())).sectors
    transfers = transfer.period_transfer(induced, list(params.periods), data.city_ids, sectors)
    return transfers, pd.DataFrame(checks)


def study(params: Params, cache_dir: Path | None = None) -> Study:
    """Bundle, transfers and panel for ``params`` (bundle and transfers cached on disk)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = bundle_mod.load(params, cache_dir)
    timings["bundle"] = time.perf_counter() - t0
    directory = bundle_mod.cache_path(params, data.source, cache_dir)
    key = digest([list(p) for p in params.periods])
    cached, cached_checks = directory / f"transfers-{key}.parquet", directory / f"checks-{key}.parquet"
    t0 = time.perf_counter()
    if cached.is_file() and cached_checks.is_file():
        transfers, checks = pd.read_parquet(cached), pd.read_parquet(cached_checks)
    else:
        transfers, checks = measure(data, params)
        for frame, path in ((checks, cached_checks), (transfers, cached)):
            _write_atomic(frame, path)
    timings["measurement"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    panel, panel_ledger = panel_mod.build(data, transfers, params.periods, params.distance_tiers_km)
    timings["panel"] = time.perf_counter() - t0
    ledger = pd.concat([data.ledger, panel_ledger], ignore_index=True)
    return Study(params=params, data=data, transfers=transfers, panel=panel, ledger=ledger,
                 checks=checks, timings=timings, cache=directory)


def tiers_present(panel: pd.DataFrame, params: Params) -> list[str]:
    """The distance-tier labels, in order, that have at least one pair in the panel."""
    have = set(panel["tier"].unique())
    return [t for t in panel_mod.tier_labels(params.distance_tiers_km) if t in have]


def estimates(s: Study) -> pd.DataFrame:
    """Every model of the book (published rows, distance tiers, synergy), tidy, cached on disk."""
    key = digest({"periods": [list(p) for p in s.params.periods], "cluster": s.params.cluster,
                  "tiers": list(s.params.distance_tiers_km)})
    cached = s.cache / f"models-{key}.parquet" if s.cache else None
    if cached is not None and cached.is_file():
        return pd.read_parquet(cached)
    t0 = time.perf_counter()
    specs = models.published_specs() + models.tier_specs(tiers_present(s.panel, s.params))
    out = models.fit_specs(s.panel, specs, s.params.cluster)
    out.insert(0, "data_source", s.source)
    s.timings["models"] = time.perf_counter() - t0
    if cached is not None:
        _write_atomic(out, cached)
    return out
