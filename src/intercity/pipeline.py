"""The whole data flow for one parameter set, with the expensive step (the MRIO solves) cached.

bundle -> induced output per MRIO year -> pair transfers per period -> pair panel.
Notebooks call :func:`study` once and read what they need from the returned :class:`Study`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from intercity import bundle as bundle_mod
from intercity import cachekey, models, panel as panel_mod, transfer
from intercity.params import Params


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


#: What each cached stage after the bundle runs and reads (see :mod:`intercity.cachekey`): the
#: measurement (Leontief solves and transfers) and the models (panel and every estimate).
MEASUREMENT_MODULES: tuple[str, ...] = ("intercity.transfer",)
MODELS_MODULES: tuple[str, ...] = ("intercity.pipeline", "intercity.models", "intercity.panel")
MODELS_DATA: tuple[str, ...] = ("data/reference/published_tables.csv",)


def measurement_key(params: Params, bundle_key: str) -> str:
    """Key of the cached transfers: the bundle's key, the measurement code and the periods."""
    return cachekey.key("measurement", MEASUREMENT_MODULES, (), {"periods": [list(p) for p in params.periods]},
                        upstream=bundle_key)


def models_key(s: "Study") -> str:
    """Key of the cached estimates: the transfers' key, the panel and model code, the published
    tables (the model registry reads them) and the parameters the models use."""
    upstream = measurement_key(s.params, s.cache.name if s.cache else "")
    return cachekey.key("models", MODELS_MODULES, MODELS_DATA,
                        {"periods": [list(p) for p in s.params.periods], "cluster": s.params.cluster,
                         "tiers": list(s.params.distance_tiers_km), "money_unit": s.params.money_unit},
                        upstream=upstream)


def study(params: Params, cache_dir: Path | None = None, log: Callable[[str], None] | None = None) -> Study:
    """Bundle, transfers and panel for ``params`` (bundle and transfers cached on disk); ``log``
    (a callable taking one line; the runner prints) hears of every stage and input file."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = bundle_mod.load(params, cache_dir, log=log)
    timings["bundle"] = time.perf_counter() - t0
    directory = bundle_mod.cache_path(params, data.source, cache_dir)
    key = measurement_key(params, directory.name)
    cached, cached_checks = directory / f"transfers-{key}.parquet", directory / f"checks-{key}.parquet"
    t0 = time.perf_counter()
    if cached.is_file() and cached_checks.is_file():
        transfers, checks = pd.read_parquet(cached), pd.read_parquet(cached_checks)
    else:
        transfers, checks = transfer.measure(data, params.periods, log=log)
        for frame, path in ((checks, cached_checks), (transfers, cached)):
            _write_atomic(frame, path)
    # the cached amounts are in 10k yuan whatever the unit; IT is written in the money unit here
    transfers = transfer.it_variables(transfers, params.money_unit)
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


def estimates(s: Study, log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Every model of the book (published rows, distance tiers, synergy), tidy, cached on disk.

    One row per spec with the columns of :data:`intercity.models.COLUMNS` plus ``data_source``
    and ``money_unit`` (the unit of the transfer before the signed log). Controls that are constant
    or fully imputed on this source (:func:`intercity.panel.controls_left_out`) are left out of
    every formula and named in ``controls_out``.
    """
    cached = s.cache / f"models-{models_key(s)}.parquet" if s.cache else None
    if cached is not None and cached.is_file():
        return pd.read_parquet(cached)
    t0 = time.perf_counter()
    specs = models.published_specs() + models.tier_specs(tiers_present(s.panel, s.params))
    if log:
        log(f"models: estimating {len(specs)} specifications ...")
    out = models.fit_specs(s.panel, specs, s.params.cluster, leave_out=panel_mod.controls_left_out(s.data))
    out.insert(out.columns.get_loc("regressor") + 1, "data_source", s.source)
    out.insert(out.columns.get_loc("r2_within") + 1, "money_unit", s.params.money_unit)
    s.timings["models"] = time.perf_counter() - t0
    if log:
        log(f"models: {len(specs)} specifications in {s.timings['models']:.1f} s")
    if cached is not None:
        _write_atomic(out, cached)
    return out
