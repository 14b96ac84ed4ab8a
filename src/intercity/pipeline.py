"""The whole data flow for one parameter set, with the expensive step (the MRIO solves) cached.

bundle -> induced output per MRIO year -> pair transfers per period -> pair panel.
Notebooks call :func:`study` once and read what they need from the returned :class:`Study`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from intercity import bundle as bundle_mod
from intercity import mrio, panel as panel_mod, paths, transfer
from intercity.params import Params, digest


@dataclass
class Study:
    """Everything derived from one bundle under one parameter set."""

    params: Params
    data: bundle_mod.StudyData
    transfers: pd.DataFrame
    panel: pd.DataFrame
    ledger: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.data.source

    def city_transfer(self) -> pd.DataFrame:
        """Per city and period: inflow, outflow and net transfer (10k yuan), with city names."""
        per_city = transfer.received_transfer(self.transfers, self.data.city_ids)
        names = self.data.cities[["city_id", "name_zh", "name_en", "lon", "lat"]]
        return per_city.merge(names.rename(columns={"city_id": "city"}), on="city", how="left")


def measure(data: bundle_mod.StudyData, params: Params) -> pd.DataFrame:
    """Induced output for every MRIO year and the pair transfers of every period."""
    induced = {year: mrio.induced_output(m, label=year) for year, m in data.mrio.items()}
    sectors = next(iter(data.mrio.values())).sectors
    return transfer.period_transfer(induced, list(params.periods), data.city_ids, sectors)


def study(params: Params, cache_dir: Path | None = None) -> Study:
    """Bundle, transfers and panel for ``params`` (bundle and transfers cached on disk)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = bundle_mod.load(params, cache_dir)
    timings["bundle"] = time.perf_counter() - t0
    directory = Path(cache_dir or paths.CACHE_DIR) / bundle_mod.cache_key(params)
    cached = directory / f"transfers-{digest([list(p) for p in params.periods])}.parquet"
    t0 = time.perf_counter()
    if cached.is_file():
        transfers = pd.read_parquet(cached)
    else:
        transfers = measure(data, params)
        tmp = cached.with_suffix(".tmp")
        transfers.to_parquet(tmp, index=False)
        tmp.rename(cached)
    timings["measurement"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    panel, panel_ledger = panel_mod.build(data, transfers, params.periods, params.distance_tiers_km)
    timings["panel"] = time.perf_counter() - t0
    ledger = pd.concat([data.ledger, panel_ledger], ignore_index=True)
    return Study(params=params, data=data, transfers=transfers, panel=panel, ledger=ledger,
                 timings=timings)
