"""The synthetic world: real cities, synthetic statistics, HSR, search index and MRIO.

Everything here is SYNTHETIC except the city universe (names, provinces, coordinates from
``cpca``). It is calibrated so that the full-scale pair panel's city statistics and connectivity
match the study's published descriptive statistics (``data/reference/descriptive_stats.csv``),
and its inter-city trade responds to distance and to both connectivities through the knobs of
:class:`Knobs`, whose values are known, so that the econometrics has a truth to recover.

Seeded and deterministic: the same (n_cities, seed, years) give identical data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from intercity import reference
from intercity.knobs import Truth, World as WorldShape
from intercity.cities import (city_universe, drop_admin_changes, great_circle_km, is_capital,
                              sample_cities)
from intercity.mrio import StructuredMRIO
from intercity.schema import CITY_YEAR_VARS, StudyData, city_year_frame, pair_year_frame
from intercity.sectors import SECTOR_CODES, SECTOR_GROUPS, SERVICE_SECTORS, tradability

_TRUTH, _WORLD = Truth(), WorldShape()


@dataclass(frozen=True)
class Knobs:
    """Documented parameters of the synthetic world: the truth knobs of
    :class:`intercity.knobs.Truth` and the shape constants of :class:`intercity.knobs.World`
    (defaults, units and allowed values there; the parameter file sets them under ``knobs:`` and
    ``world:``).

    distance_decay_goods_km: trade share of goods sectors falls as exp(-d / decay).
    distance_decay_services_km: the same for services (less tradable).
    distance_decay_local_km: the same for construction and utilities (mostly local).
    home_bias: multiplier of a city's own supply in its use of every product.
    hsr_trade_effect: trade share from i to j multiplied by exp(effect x HSR line-years between
        i and j accumulated since the first data year): connectivity keeps moving industry.
    info_trade_effect: trade share from supplier i to buyer j multiplied by exp(effect x the
        accumulated ln(1 + search index from j to i)) (buyers search the suppliers' city).
    capacity_shock_sd: sd of the yearly log shocks to each city-sector's supply capacity.
    hsr_info_effect: log search index rises by this per HSR line between the two cities.
    target_hsr_mean: mean of connectivity_HSR over pair-periods that the rollout is grown to.
    """

    distance_decay_goods_km: float = _WORLD.distance_decay_goods_km
    distance_decay_services_km: float = _WORLD.distance_decay_services_km
    distance_decay_local_km: float = _WORLD.distance_decay_local_km
    home_bias: float = _WORLD.home_bias
    hsr_trade_effect: float = _TRUTH.hsr_trade_effect
    info_trade_effect: float = _TRUTH.info_trade_effect
    capacity_shock_sd: float = _WORLD.capacity_shock_sd
    hsr_info_effect: float = _TRUTH.hsr_info_effect
    target_hsr_mean: float = _WORLD.target_hsr_mean

    @classmethod
    def of(cls, truth: Truth | None = None, world: WorldShape | None = None) -> "Knobs":
        """The knobs of a parameter set's ``knobs:`` (truth) and ``world:`` (shape) sections."""
        return cls(**(truth or Truth()).model_dump(), **(world or WorldShape()).model_dump())

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


#: Resident population of the municipalities, 10k persons, about 2015 (rounded public figures).
_MUNICIPALITY_POP = {"110000": 2170.0, "120000": 1547.0, "310000": 2415.0, "500000": 3017.0}
#: Growth per year of each city variable in the synthetic world (log-points, or points for shares).
_GROWTH = {"gdp_per_capita": 0.07, "population": 0.005, "urbanization": 0.012, "fdi_gdp": -0.04,
           "college_per_pop": 0.03, "trade_gdp": -0.04, "gov_exp_gdp": 0.02}
#: variable -> (name in descriptive_stats.csv, loading on the development factor)
CALIBRATED = {"gdp_per_capita": ("edl", 0.9), "urbanization": ("ul", 0.8), "fdi_gdp": ("fil", 0.5),
              "college_per_pop": ("hcl", 0.6), "trade_gdp": ("ftl", 0.6),
              "gov_exp_gdp": ("gel", -0.5)}


def select_cities(universe: pd.DataFrame, n_cities: int, rng: np.random.Generator
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop cities with administrative changes, then keep ``n_cities`` of the rest
    (:func:`intercity.cities.sample_cities`). Returns (kept cities, ledger of every dropped city)."""
    eligible, ledger = drop_admin_changes(universe)
    if n_cities > len(eligible):
        raise ValueError(f"n_cities={n_cities} exceeds the {len(eligible)} eligible cities")
    kept, sampled = sample_cities(eligible, n_cities, rng,
                                  f"not sampled: synthetic universe cut to {n_cities} cities (the study's 273 "
                                  "at full scale; its own exclusion list is not published)")
    return kept, pd.concat([ledger, sampled], ignore_index=True)


def _period_average(values: np.ndarray, years: list[int], periods: list[tuple[int, int]]) -> np.ndarray:
    """values (n, n_years) -> (n, n_periods): mean over the years of each period, ends included."""
    cols = [[years.index(y) for y in range(a, b + 1)] for a, b in periods]
    return np.stack([values[:, c].mean(axis=1) for c in cols], axis=1)


def _calibrate(raw: np.ndarray, target: pd.Series, years: list[int],
               periods: list[tuple[int, int]]) -> np.ndarray:
    """Map positive yearly values to ``min + c x raw ** p``, clipped to the target's [min, max].

    ``c`` and ``p`` are solved by fixed-point steps so that the period averages have the target
    mean and sd (``raw`` is drawn with a shifted lognormal's dispersion, so ``p`` stays near 1).
    """
    lo, hi = target["min"], target["max"]
    raw = raw / np.median(raw)
    c, p = 1.0, 1.0
    for _ in range(60):
        out = np.clip(lo + c * raw ** p, lo, hi)
        pa = _period_average(out, years, periods)
        if pa.std() == 0:  # every value clipped (a handful of cities): nothing left to fit
            break
        c *= (target["mean"] - lo) / (pa.mean() - lo)
        p = float(np.clip(p * (target["std"] / pa.std()) ** 0.5, 0.25, 4.0))
    out = lo + c * raw ** p
    # clip to the published range without ties (a tie would put a pair in neither gradient
    # half): values beyond a bound keep their order, squeezed into 1e-6 of the range
    span = hi - lo
    order = raw.argsort(axis=None).argsort().reshape(raw.shape) / raw.size
    out = np.where(out > hi, hi - 1e-6 * span * (1 - order), out)
    out = np.where(out < lo, lo + 1e-6 * span * order, out)
    return out


def city_statistics(cities: pd.DataFrame, years: list[int], periods: list[tuple[int, int]],
                    rng: np.random.Generator) -> pd.DataFrame:
    """Synthetic city-year panel of every control and mechanism variable (long: city_id, year).

    Units: gdp_per_capita 10k yuan; population and employment 10k persons; shares as fractions;
    fixed_assets and liquid_assets 10k yuan; patents granted (count).
    """
    targets = reference.descriptive_stats().set_index("variable")
    n, t = len(cities), np.arange(len(years)) - (len(years) - 1) / 2
    capital = is_capital(cities["city_id"])
    east = cities["region"].eq("east").to_numpy()
    z = rng.standard_normal(n) + 0.9 * capital + 0.5 * east  # development factor
    z = (z - z.mean()) / z.std()
    out: dict[str, np.ndarray] = {}
    pop0 = np.exp(np.log(450.0) + 0.55 * rng.standard_normal(n) + 0.8 * capital)
    for cid, size in _MUNICIPALITY_POP.items():  # resident population, 10k persons, about 2015
        pop0[cities["city_id"].to_numpy() == cid] = size
    growth_pop = _GROWTH["population"] + 0.005 * rng.standard_normal(n) + 0.004 * z
    out["population"] = pop0[:, None] * np.exp(growth_pop[:, None] * t[None, :])
    for var, (stat, loading) in CALIBRATED.items():
        tgt = targets.loc[stat]
        cv = tgt["std"] / (tgt["mean"] - tgt["min"])  # shifted lognormal: cv^2 = exp(sigma^2) - 1
        u = loading * z + np.sqrt(1 - loading ** 2) * rng.standard_normal(n)
        level = np.exp(np.sqrt(np.log1p(cv ** 2)) * u)
        g = _GROWTH[var] + 0.015 * rng.standard_normal(n)
        raw = level[:, None] * np.exp(g[:, None] * t[None, :]) * np.exp(0.02 * rng.standard_normal((n, len(years))))
        out[var] = _calibrate(raw, tgt, years, periods)
    gdp = out["gdp_per_capita"] * out["population"] * 1e4  # 10k yuan
    emp_rate = np.clip(0.12 + 0.05 * z + 0.02 * rng.standard_normal(n), 0.03, 0.5)
    out["employment"] = out["population"] * emp_rate[:, None] * np.exp(0.01 * t[None, :] + 0.02 * rng.standard_normal((n, len(years))))
    fa_ratio = np.exp(np.log(0.8) + 0.25 * rng.standard_normal(n) - 0.1 * z)
    out["fixed_assets"] = gdp * fa_ratio[:, None] * np.exp(0.03 * t[None, :] + 0.05 * rng.standard_normal((n, len(years))))
    la_ratio = np.exp(np.log(0.5) + 0.3 * rng.standard_normal(n) + 0.15 * z)
    out["liquid_assets"] = gdp * la_ratio[:, None] * np.exp(0.02 * t[None, :] + 0.05 * rng.standard_normal((n, len(years))))
    pat = np.exp(np.log(2.0) + 1.2 * z + 0.4 * rng.standard_normal(n))
    out["patents"] = np.round(pat[:, None] * out["population"] * np.exp(0.12 * t[None, :]))
    return city_year_frame(cities["city_id"], years, {v: out[v] for v in CITY_YEAR_VARS},
                           {v: "synthetic" for v in CITY_YEAR_VARS})



def hsr_rollout(cities: pd.DataFrame, dist: np.ndarray, years: list[int],
                periods: list[tuple[int, int]], knobs: Knobs, rng: np.random.Generator,
                max_lines: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    """Grow synthetic HSR lines until mean connectivity_HSR over pair-periods reaches the target.

    A line joins two cities 250-1500 km apart (larger cities more likely) and stops at every
    city within 50 km of the straight segment between them; it opens in a year 2008-2017.
    Returns (lines table, lines[i, j, year index] = number of open lines serving both i and j).
    """
    n = len(cities)
    lon, lat = cities["lon"].to_numpy(), cities["lat"].to_numpy()
    xy = np.stack([lon * np.cos(np.radians(lat.mean())) * 111.3, lat * 110.6], axis=1)  # km, local projection
    weight = np.where(is_capital(cities["city_id"]), 4.0, 1.0)
    counts = np.zeros((n, n, len(years)), dtype=np.int16)
    offdiag = ~np.eye(n, dtype=bool)
    pcols = [[years.index(y) for y in range(a, b + 1)] for a, b in periods]
    rows = []
    open_years = np.arange(2008, 2018)
    p_open = np.linspace(1.0, 2.0, len(open_years))
    p_open /= p_open.sum()
    while len(rows) < max_lines:
        mean_hsr = np.mean([counts[:, :, c].mean(axis=2)[offdiag].mean() for c in pcols])
        if mean_hsr >= knobs.target_hsr_mean:
            break
        a = rng.choice(n, p=weight / weight.sum())
        cand = np.flatnonzero((dist[a] > 250) & (dist[a] < 1500))
        if cand.size == 0:
            continue
        b = rng.choice(cand, p=weight[cand] / weight[cand].sum())
        seg = xy[b] - xy[a]
        proj = ((xy - xy[a]) @ seg) / (seg @ seg)
        perp = np.linalg.norm(xy - xy[a] - proj[:, None] * seg[None, :], axis=1)
        on_line = (proj >= -1e-9) & (proj <= 1 + 1e-9) & (perp <= 50.0)
        on_line[[a, b]] = True
        stops = np.flatnonzero(on_line)
        stops = stops[np.argsort(proj[stops])]
        year = int(rng.choice(open_years, p=p_open))
        yi = [k for k, y in enumerate(years) if y >= year]
        idx = np.ix_(stops, stops, yi)
        counts[idx] += 1
        rows.append((f"L{len(rows) + 1:03d}", year, "-".join(cities["city_id"].to_numpy()[stops]),
                     len(stops)))
    counts[np.arange(n), np.arange(n), :] = 0
    lines = pd.DataFrame(rows, columns=["line_id", "open_year", "stops", "n_stops"])
    return lines, counts


@dataclass
class IndexModel:
    """The search index's random parts and calibration, so that the index can be recomputed for
    another HSR network under the same draws (the design lab's counterfactuals).

    score[i, j, y] = pre + hsr_info_effect x hsr[i, j, y] + noise_pair + trend x t_y + noise_year;
    idx = expm1(clip(mean + lo + sd_target x hi x (score - mu) / sd, 0, cap)), with (mu, sd, lo, hi)
    fitted once on the world's own HSR network.
    """

    pre: np.ndarray
    noise_pair: np.ndarray
    trend: np.ndarray
    noise_year: np.ndarray
    mu: float = 0.0
    sd: float = 1.0
    lo: float = 0.0
    hi: float = 1.0
    target_mean: float = 0.0
    target_std: float = 1.0
    cap: float = np.inf

    def score(self, hsr: np.ndarray, knobs: Knobs) -> np.ndarray:
        return self.pre + knobs.hsr_info_effect * hsr + self.noise_pair + self.trend + self.noise_year

    def index(self, hsr: np.ndarray, knobs: Knobs) -> np.ndarray:
        """idx[i, j, year] for the HSR line counts ``hsr`` under the fitted calibration."""
        z = (self.score(hsr, knobs) - self.mu) / self.sd
        idx = np.expm1(np.clip(self.target_mean + self.lo + (self.target_std * self.hi) * z, 0.0, self.cap))
        n = idx.shape[0]
        idx[np.arange(n), np.arange(n), :] = 0.0
        return idx

    def log_index_per_line(self, knobs: Knobs) -> float:
        """Rise of ln(1 + index) per HSR line where the index is not clipped."""
        return knobs.hsr_info_effect * self.target_std * self.hi / self.sd


def index_model(cities: pd.DataFrame, dist: np.ndarray, pop: np.ndarray, gdp_pc: np.ndarray,
                hsr: np.ndarray, years: list[int], periods: list[tuple[int, int]], knobs: Knobs,
                rng: np.random.Generator) -> IndexModel:
    """Draw the search index's random parts and calibrate it on the world's HSR network ``hsr``
    (see :func:`search_index`)."""
    n = len(cities)
    prov = cities["province"].to_numpy()
    same_prov = (prov[:, None] == prov[None, :]).astype(float)
    d = np.maximum(dist, 10.0)
    t = np.arange(len(years)) - (len(years) - 1) / 2
    noise_pair = 0.6 * rng.standard_normal((n, n))
    pre = (0.5 * np.log(pop)[:, None, :] + 0.9 * np.log(pop)[None, :, :] + 0.6 * np.log(gdp_pc)[:, None, :]
           - 1.1 * np.log(d / 100.0)[:, :, None] + 0.8 * same_prov[:, :, None])
    trend = (0.04 + 0.06 * rng.standard_normal((n, n)))[:, :, None] * t[None, None, :]
    noise_year = 0.05 * rng.standard_normal((n, n, len(years)))
    m = IndexModel(pre=pre, noise_pair=noise_pair[:, :, None], trend=trend, noise_year=noise_year)
    score = m.score(hsr, knobs)
    target = reference.descriptive_stats().set_index("variable").loc["connectivity_I"]
    offdiag = ~np.eye(n, dtype=bool)
    pcols = [[years.index(y) for y in range(a, b + 1)] for a, b in periods]
    lo, hi = 0.0, 1.0
    mu, sd = score[offdiag].mean(), score[offdiag].std()
    z = (score - mu) / sd
    for _ in range(3):  # two-step moment matching of ln(1 + period mean) on (location, scale)
        idx = np.expm1(np.clip(target["mean"] + lo + (target["std"] * hi) * z, 0.0, None))
        ci = np.stack([np.log1p(idx[:, :, c].mean(axis=2))[offdiag] for c in pcols])
        lo += target["mean"] - ci.mean()
        hi *= target["std"] / ci.std()
    m.mu, m.sd, m.lo, m.hi = float(mu), float(sd), float(lo), float(hi)
    m.target_mean, m.target_std = float(target["mean"]), float(target["std"])
    m.cap = float(np.log1p(np.expm1(target["max"])))
    return m


def search_index(cities: pd.DataFrame, dist: np.ndarray, pop: np.ndarray, gdp_pc: np.ndarray,
                 hsr: np.ndarray, years: list[int], periods: list[tuple[int, int]], knobs: Knobs,
                 rng: np.random.Generator) -> np.ndarray:
    """Synthetic directed daily-average search index, idx[i, j, year]: users in i searching j.

    Gravity in logs (destination size, origin size and income, distance, same province, HSR),
    calibrated so that connectivity_I = ln(1 + period average) has the published mean and sd.
    """
    return index_model(cities, dist, pop, gdp_pc, hsr, years, periods, knobs, rng).index(hsr, knobs)


def _sector_structure(cities: pd.DataFrame, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(output weights w[i, s], final-demand composition fd[s], national coefficients a[s, r])."""
    S, n = len(SECTOR_CODES), len(cities)
    services = np.array([c in SERVICE_SECTORS for c in SECTOR_CODES])
    base = rng.dirichlet(np.full(S, 2.0))
    tilt = np.zeros(S)
    tilt[SECTOR_CODES.index("01")] = -0.8
    tilt[services] = 0.4
    tilt[SECTOR_CODES.index(SECTOR_GROUPS["tech"][0])] = 1.0
    w = base[None, :] * np.exp(tilt[None, :] * z[:, None] + 0.5 * rng.standard_normal((n, S)))
    w /= w.sum(axis=1, keepdims=True)
    fd = rng.dirichlet(np.where(services, 3.0, 1.0))
    ratio = np.where(services, rng.uniform(0.35, 0.55, S), rng.uniform(0.6, 0.8, S))
    mix = rng.dirichlet(np.full(S, 0.3), size=S).T  # columns: input mix of each sector
    mix = 0.7 * mix + 0.3 * np.eye(S)
    a = mix / mix.sum(axis=0, keepdims=True) * ratio[None, :]
    return w, fd, a


@dataclass
class MRIODraws:
    """The random and connectivity-free parts of the world's MRIO tables, so that the tables can be
    rebuilt for other connectivity under the same draws (the design lab's counterfactuals)."""

    cities: tuple[str, ...]
    gdp: np.ndarray          # (n, years) GDP, 10k yuan
    w: np.ndarray            # (n, S) output weights
    fd: np.ndarray           # (S,) final-demand composition
    friction: np.ndarray     # (S, n, n) distance decay x home bias
    a_year: dict             # year -> (S, S) national coefficients
    cap_noise: dict          # year -> (n, S) standard normal draws of the capacity shocks
    f_noise: dict            # year -> (n, S) standard normal draws of final demand


def mrio_draws(cities: pd.DataFrame, city_year: pd.DataFrame, dist: np.ndarray, years: list[int],
               mrio_years: tuple[int, ...], knobs: Knobs, rng: np.random.Generator) -> MRIODraws:
    """Draw everything of :func:`mrio_tables` that does not depend on connectivity."""
    S, n = len(SECTOR_CODES), len(cities)
    gdp_pc = city_year.pivot(index="city_id", columns="year", values="gdp_per_capita").loc[cities["city_id"]]
    pop = city_year.pivot(index="city_id", columns="year", values="population").loc[cities["city_id"]]
    gdp = (gdp_pc * pop * 1e4).to_numpy()  # 10k yuan
    z = np.log(gdp_pc.to_numpy().mean(axis=1))
    z = (z - z.mean()) / z.std()
    w, fd, a_base = _sector_structure(cities, z, rng)
    decay_km = {"local": knobs.distance_decay_local_km, "services": knobs.distance_decay_services_km,
                "goods": knobs.distance_decay_goods_km}
    decay = np.array([decay_km[tradability(c)] for c in SECTOR_CODES])
    friction = np.exp(-dist[None, :, :] / decay[:, None, None])  # (S, n, n)
    friction[:, np.arange(n), np.arange(n)] *= knobs.home_bias
    a_year, cap_noise, f_noise = {}, {}, {}
    for year in mrio_years:
        a = a_base * np.exp(0.03 * rng.standard_normal((S, S)))
        a_year[year] = np.minimum(a, a_base.sum(axis=0, keepdims=True) * 0.9)
        cap_noise[year] = rng.standard_normal((n, S))
        f_noise[year] = rng.standard_normal((n, S))
    return MRIODraws(cities=tuple(cities["city_id"]), gdp=gdp, w=w, fd=fd, friction=friction, a_year=a_year,
                     cap_noise=cap_noise, f_noise=f_noise)


def mrio_from(draws: MRIODraws, hsr: np.ndarray, idx: np.ndarray, years: list[int], knobs: Knobs,
              only: tuple[int, ...] | None = None) -> dict[int, StructuredMRIO]:
    """The MRIO tables of ``draws`` under the connectivity ``hsr`` and ``idx`` (n, n, years), for
    every MRIO year (or those in ``only``); see :func:`mrio_tables`."""
    out = {}
    for year in draws.a_year:
        if only is not None and year not in only:
            continue
        k = years.index(year)
        cap = draws.w * draws.gdp[:, k][:, None] * np.exp(knobs.capacity_shock_sd * draws.cap_noise[year])
        conn = np.exp(knobs.hsr_trade_effect * hsr[:, :, : k + 1].sum(axis=2)
                      + knobs.info_trade_effect * np.log1p(idx[:, :, : k + 1]).sum(axis=2).T)
        np.fill_diagonal(conn, 1.0)
        shares = cap.T[:, :, None] * draws.friction * conn[None, :, :]
        shares /= shares.sum(axis=1, keepdims=True)
        f = 0.55 * draws.gdp[:, k][:, None] * draws.fd[None, :] * np.exp(0.1 * draws.f_noise[year])
        out[year] = StructuredMRIO(cities=draws.cities, sectors=SECTOR_CODES,
                                   a_nat=draws.a_year[year], shares=shares, final_demand=f)
    return out


def mrio_tables(cities: pd.DataFrame, city_year: pd.DataFrame, dist: np.ndarray, hsr: np.ndarray,
                idx: np.ndarray, years: list[int], mrio_years: tuple[int, ...], knobs: Knobs,
                rng: np.random.Generator) -> dict[int, StructuredMRIO]:
    """Chenery-Moses MRIO per MRIO year: national coefficients x gravity trade shares.

    t[s, i, j] is proportional to capacity[i, s] x exp(-d_ij / decay_s) x home bias (i == j)
    x exp(hsr_trade_effect x sum_{years <= t} HSR lines_ij
          + info_trade_effect x sum_{years <= t} ln(1 + index_ji)).
    Final demand of city j for product s: 0.55 x GDP_j x fd[s] x noise (domestic, no imports).
    """
    return mrio_from(mrio_draws(cities, city_year, dist, years, mrio_years, knobs, rng), hsr, idx, years, knobs)


@dataclass
class World:
    """One synthetic world with the draws needed to re-solve it under other connectivity.

    ``hsr[i, j, year]`` (int16) and ``idx[i, j, year]`` are the world's HSR line counts and search
    index (years = ``years``); :meth:`index_for` recomputes the index for other HSR line counts
    (the index responds to HSR through ``hsr_info_effect``) and :meth:`mrio` the MRIO tables for
    other connectivity, each under the same random draws.
    """

    cities: pd.DataFrame
    ledger: pd.DataFrame
    city_year: pd.DataFrame
    dist: np.ndarray
    lines: pd.DataFrame
    hsr: np.ndarray
    idx: np.ndarray
    years: list[int]
    periods: list[tuple[int, int]]
    mrio_years: tuple[int, ...]
    knobs: Knobs
    index_model: IndexModel
    mrio_draws: MRIODraws

    def index_for(self, hsr: np.ndarray) -> np.ndarray:
        return self.index_model.index(hsr, self.knobs)

    def mrio(self, hsr: np.ndarray | None = None, idx: np.ndarray | None = None,
             only: tuple[int, ...] | None = None) -> dict[int, StructuredMRIO]:
        return mrio_from(self.mrio_draws, self.hsr if hsr is None else hsr, self.idx if idx is None else idx,
                         self.years, self.knobs, only)

    def pair_year(self, hsr: np.ndarray | None = None, idx: np.ndarray | None = None) -> pd.DataFrame:
        return pair_year_frame(self.cities["city_id"], self.years,
                               {"hsr_lines": (self.hsr if hsr is None else hsr).astype("int64"),
                                "baidu_index": self.idx if idx is None else idx},
                               {"hsr_lines": "synthetic", "baidu_index": "synthetic"})


def world(n_cities: int, seed: int, years: list[int], periods: list[tuple[int, int]],
          mrio_years: tuple[int, ...], knobs: Knobs | None = None, all_prefectures: bool = False) -> World:
    """Draw a synthetic world (cities, statistics, HSR rollout, search index, MRIO draws);
    ``all_prefectures`` as in :func:`generate`."""
    knobs = knobs or Knobs()
    rng = np.random.default_rng(seed)
    cities, ledger = select_cities(city_universe(all_prefectures), n_cities, rng)
    dist = great_circle_km(cities["lon"], cities["lat"])
    city_year = city_statistics(cities, years, periods, rng)
    lines, hsr = hsr_rollout(cities, dist, years, periods, knobs, rng)
    pop = city_year.pivot(index="city_id", columns="year", values="population").loc[cities["city_id"]].to_numpy()
    gpc = city_year.pivot(index="city_id", columns="year", values="gdp_per_capita").loc[cities["city_id"]].to_numpy()
    im = index_model(cities, dist, pop, gpc, hsr, years, periods, knobs, rng)
    idx = im.index(hsr, knobs)
    draws = mrio_draws(cities, city_year, dist, years, mrio_years, knobs, rng)
    return World(cities=cities, ledger=ledger, city_year=city_year, dist=dist, lines=lines, hsr=hsr, idx=idx,
                 years=list(years), periods=list(periods), mrio_years=tuple(mrio_years), knobs=knobs,
                 index_model=im, mrio_draws=draws)


def generate(n_cities: int, seed: int, years: list[int], periods: list[tuple[int, int]],
             mrio_years: tuple[int, ...], knobs: Knobs | None = None,
             all_prefectures: bool = False) -> dict[str, Any]:
    """Build every table of the synthetic StudyData bundle (see :mod:`intercity.bundle`).

    ``all_prefectures``: draw the cities from every prefecture-level unit (autonomous prefectures,
    prefectures and leagues too: :func:`intercity.cities.city_universe`), as the CEADs city tables
    count them (the fake CEADs tables of 313 units); the synthetic source itself keeps the default,
    the prefecture-level cities named 市 and the municipalities.
    """
    w = world(n_cities, seed, years, periods, mrio_years, knobs, all_prefectures)
    return {"cities": w.cities, "city_year": w.city_year, "pair_year": w.pair_year(), "mrio": w.mrio(),
            "ledger": w.ledger, "hsr_lines": w.lines, "knobs": w.knobs.to_dict()}


def build(params, years: list[int]) -> StudyData:
    """The synthetic StudyData for ``params`` (registry entry point; see :mod:`intercity.sources`):
    the world's truth knobs and shape constants come from the parameters ``knobs:`` and ``world:``."""
    knobs = Knobs.of(params.knobs, params.world)
    raw = generate(params.n_cities, params.seed, years, list(params.periods), params.mrio_years, knobs)
    return StudyData(source="synthetic", cities=raw["cities"], city_year=raw["city_year"],
                     pair_year=raw["pair_year"], mrio=raw["mrio"], ledger=raw["ledger"],
                     extras={"hsr_lines": raw["hsr_lines"]},
                     meta={"knobs": raw["knobs"], "n_cities": params.n_cities, "seed": params.seed})
