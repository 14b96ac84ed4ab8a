"""The synthetic world's knobs: the planted effects (the truth) and the world's shape constants.

Two groups, kept apart (parameters ``knobs:`` and ``world:`` of :mod:`intercity.params`):

* :class:`Truth` - the effects the study's regressions try to recover: how HSR and information
  connectivity move inter-city trade shares of the Chenery-Moses MRIO (and how HSR raises the
  search index). The design lab (:mod:`intercity.lab`) varies them.
* :class:`World` - constants that shape the world but are not effects of connectivity: distance
  decay of trade by tradability class, home bias, the size of supply shocks, how far the HSR
  rollout is grown.

Where each enters (:mod:`intercity.sources.synthetic`): the share of city j's use of product s
supplied by city i, before normalising over suppliers i, is

    t[s, i, j] ~ capacity[i, s] x exp(-d_ij / decay_s) x home_bias^(i == j)
                 x exp(hsr_trade_effect x sum_{years y <= t} HSR lines_ij(y)
                       + info_trade_effect x sum_{years y <= t} ln(1 + index_ji(y)))

(index_ji: daily search index of users in the buyer city j about the supplier city i), and the
search index's log-score rises by ``hsr_info_effect`` per HSR line serving the pair.

This module holds only the schema (defaults, units, allowed values); it imports nothing else of the
package, so that the bundle's cache key (which hashes the code the synthetic source runs) does not
change when unrelated parameters do.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, field_validator

Number = StrictFloat | StrictInt


def _finite(v: float) -> float:
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("not a finite number")
    return v


class Truth(BaseModel):
    """The planted effects of connectivity (the truth the design lab measures).

    hsr_trade_effect: log-points of the trade share from i to j per HSR line-year between i and j
        accumulated since the first data year (default 0.05). 0 = HSR does not move trade.
    info_trade_effect: log-points of the trade share from supplier i to buyer j per unit of
        ln(1 + search index from j to i), accumulated over the years since the first data year
        (default 0.02). 0 = information does not move trade.
    hsr_info_effect: log-points of the search index's gravity score per HSR line serving the pair
        (default 0.10), before the index is calibrated to the study's mean and sd: HSR raises
        information connectivity.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hsr_trade_effect: Number = 0.05
    info_trade_effect: Number = 0.02
    hsr_info_effect: Number = 0.10

    @field_validator("hsr_trade_effect", "info_trade_effect", "hsr_info_effect")
    @classmethod
    def _finite(cls, v: float) -> float:
        return _finite(v)


class World(BaseModel):
    """Shape constants of the synthetic world (not effects of connectivity).

    distance_decay_goods_km: trade share of goods sectors falls as exp(-d / decay), km (450).
    distance_decay_services_km: the same for services, less tradable (150).
    distance_decay_local_km: the same for construction and utilities, mostly local (60).
    home_bias: multiplier of a city's own supply in its use of every product (150).
    capacity_shock_sd: sd of the yearly log shocks to each city-sector's supply capacity (0.8).
    target_hsr_mean: mean of connectivity_HSR over pair-periods that the synthetic HSR rollout is
        grown to (0.023, the study's descriptive statistics).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    distance_decay_goods_km: Number = 450.0
    distance_decay_services_km: Number = 150.0
    distance_decay_local_km: Number = 60.0
    home_bias: Number = 150.0
    capacity_shock_sd: Number = 0.8
    target_hsr_mean: Number = 0.023

    @field_validator("distance_decay_goods_km", "distance_decay_services_km", "distance_decay_local_km",
                     "home_bias", "target_hsr_mean")
    @classmethod
    def _positive(cls, v: float) -> float:
        v = _finite(v)
        if v <= 0:
            raise ValueError("not positive")
        return v

    @field_validator("capacity_shock_sd")
    @classmethod
    def _non_negative(cls, v: float) -> float:
        v = _finite(v)
        if v < 0:
            raise ValueError("negative")
        return v


#: Names of the truth knobs and of the shape constants (the parameter file's keys).
TRUTH_KNOBS: tuple[str, ...] = tuple(Truth.model_fields)
WORLD_CONSTANTS: tuple[str, ...] = tuple(World.model_fields)
#: What each group allows (error messages).
ALLOWED_TRUTH = f"a mapping with any of {list(TRUTH_KNOBS)}, each a finite number"
ALLOWED_WORLD = (f"a mapping with any of {list(WORLD_CONSTANTS)}, each a finite number, positive "
                 "(capacity_shock_sd: non-negative)")
