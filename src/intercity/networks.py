"""What the background figures compute: destination priority ranks, network centralities and
the class breaks of the maps. Pure functions of the bundle and the transfer table.

Conventions
-----------
* Transfers are those of :mod:`intercity.transfer`: ``transfer`` of row (origin, dest, period)
  is the transfer from origin to dest in 10k yuan (signed).
* Priority rank: within one origin and period, destinations sorted by the transfer the origin
  sends them, largest first (rank 1 = first destination); ties broken by destination id.
* Nearest city: the destination with the smallest great-circle distance from the origin's seat
  (ties broken by destination id).
* HSR degree of a city in a year: the number of other cities with which it shares at least one
  open HSR line (``hsr_lines > 0``).
* Information centrality of a city in a year: ``ln(1 + strength)``, strength = sum over the other
  cities of the mean of the daily search index in both directions (the undirected, weighted
  degree of the search-index network).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from intercity.cities import great_circle_km

#: The study's published probability that the nearest city is the first destination, in both
#: periods ("remained almost unchanged (0.3)", presentation, background section).
PUBLISHED_NEAREST_FIRST = 0.3

#: Class edges of the study's maps of information-connectivity centrality (2012 and 2017). The
#: deck's legend reads [0,1], (1,7], (7,8], (8,8.5], (8.5,9], (9,9.5], (9.5,10], (10,10.5],
#: (10.5,11] as far as its text layer can be read (each year's list lost one class in the
#: extraction; the union is used). Values above 11 get one more class.
INFO_BREAKS: tuple[float, ...] = (0.0, 1.0, 7.0, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0)


def distance_table(cities: pd.DataFrame) -> pd.DataFrame:
    """Great-circle distance (km) of every ordered pair of cities: origin, dest, distance_km."""
    d = great_circle_km(cities["lon"].to_numpy(), cities["lat"].to_numpy())
    ids = cities["city_id"].astype(str).to_numpy()
    o, t = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), indexing="ij")
    keep = o != t
    return pd.DataFrame({"origin": ids[o[keep]], "dest": ids[t[keep]], "distance_km": d[keep]})


def destination_ranks(transfers: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Every (period, origin, dest) with ``transfer``, ``rank`` (1 = largest transfer sent),
    ``distance_km`` and ``nearest`` (dest is the origin's nearest city)."""
    dist = distance_table(cities)
    frame = transfers[["period", "origin", "dest", "transfer"]].merge(dist, on=["origin", "dest"], how="left")
    if frame["distance_km"].isna().any():
        missing = frame.loc[frame["distance_km"].isna(), ["origin", "dest"]].iloc[0].tolist()
        raise ValueError(f"destination_ranks: pair {missing} has no coordinates in `cities`")
    frame = frame.sort_values(["period", "origin", "transfer", "dest"], ascending=[True, True, False, True],
                              kind="mergesort")
    frame["rank"] = frame.groupby(["period", "origin"], sort=False).cumcount() + 1
    near = frame.sort_values(["period", "origin", "distance_km", "dest"], kind="mergesort")
    first_near = near.groupby(["period", "origin"], sort=False).head(1)
    frame["nearest"] = False
    frame.loc[first_near.index, "nearest"] = True
    return frame.sort_values(["period", "origin", "rank"], kind="mergesort").reset_index(drop=True)


def distance_by_rank(ranks: pd.DataFrame) -> pd.DataFrame:
    """Mean and median distance (km) of the destinations at each priority rank, per period."""
    g = ranks.groupby(["period", "rank"], sort=True)["distance_km"]
    return g.agg(mean_km="mean", median_km="median", origins="size").reset_index()


def rank_distance_correlation(by_rank: pd.DataFrame) -> pd.Series:
    """Per period, Spearman's rank correlation between priority rank and the mean distance of
    the destinations at that rank (positive: lower-priority destinations lie farther away)."""
    return by_rank.groupby("period", sort=True).apply(
        lambda g: float(g["rank"].corr(g["mean_km"], method="spearman")), include_groups=False
    ).rename("spearman")


def nearest_first(ranks: pd.DataFrame) -> pd.DataFrame:
    """Per period: the share of origins whose first destination is their nearest city."""
    near = ranks[ranks["nearest"]]
    out = near.groupby("period", sort=True).agg(origins=("origin", "size"),
                                                p_first=("rank", lambda r: float((r == 1).mean())))
    return out.reset_index()


def rank_bins(n_ranks: int) -> list[tuple[int, int]]:
    """Rank bins for the distribution plot: 1..5 one by one, then 6-10, 11-20, 21-50, 51-100,
    101-200, 201+ (each cut to ``n_ranks``, empty bins dropped)."""
    edges = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 200)]
    bins = [(a, min(b, n_ranks)) for a, b in edges if a <= n_ranks]
    if n_ranks > 200:
        bins.append((201, n_ranks))
    return bins


def nearest_rank_distribution(ranks: pd.DataFrame) -> pd.DataFrame:
    """Distribution over priority ranks of the rank the nearest city gets: per period and rank
    bin, the share of origins (``share``; sums to 1 per period) and the count."""
    near = ranks[ranks["nearest"]]
    n_ranks = int(ranks["rank"].max())
    rows = []
    for period, sub in near.groupby("period", sort=True):
        for a, b in rank_bins(n_ranks):
            k = int(((sub["rank"] >= a) & (sub["rank"] <= b)).sum())
            rows.append({"period": period, "bin": str(a) if a == b else f"{a}-{b}", "first_rank": a,
                         "last_rank": b, "origins": k, "share": k / len(sub)})
    return pd.DataFrame(rows)


def transfer_from(transfers: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Transfer (10k yuan) sent by ``origin`` to every destination: period, city, value."""
    sub = transfers[transfers["origin"] == origin]
    if sub.empty:
        raise ValueError(f"transfer_from: city {origin!r} is not an origin in this build")
    return sub[["period", "dest", "transfer"]].rename(columns={"dest": "city", "transfer": "value"}).reset_index(drop=True)


def hsr_edges(pair_year: pd.DataFrame, year: int) -> pd.DataFrame:
    """Unordered city pairs served by at least one HSR line in ``year`` (origin < dest)."""
    sub = pair_year[(pair_year["year"] == year) & (pair_year["hsr_lines"] > 0)]
    a = sub[["origin", "dest"]].min(axis=1)
    b = sub[["origin", "dest"]].max(axis=1)
    edges = pd.DataFrame({"origin": a.to_numpy(), "dest": b.to_numpy(), "hsr_lines": sub["hsr_lines"].to_numpy()})
    return (edges.groupby(["origin", "dest"], sort=True)["hsr_lines"].max().reset_index())


def _require_known(pair_year: pd.DataFrame, city_ids: Sequence[str], year: int, who: str) -> None:
    """Raise ``ValueError`` naming the ids of ``city_ids`` that have no pair in ``year``."""
    sub = pair_year[pair_year["year"] == year]
    known = set(sub["origin"].astype(str)) | set(sub["dest"].astype(str))
    unknown = [str(c) for c in city_ids if str(c) not in known]
    if unknown:
        raise ValueError(f"{who}: city id(s) {unknown[:5]} ({len(unknown)} in all) have no pair in "
                         f"pair_year for {year}; their value is unknown, not 0")


def hsr_degree(pair_year: pd.DataFrame, city_ids: Sequence[str], year: int) -> pd.Series:
    """HSR degree of each city in ``year`` (number of HSR-connected cities), indexed by city id.

    A city of ``city_ids`` without any pair in ``pair_year`` that year raises ``ValueError`` naming
    it (its degree is unknown, not 0); a known city without an open line has degree 0.
    """
    _require_known(pair_year, city_ids, year, "hsr_degree")
    edges = hsr_edges(pair_year, year)
    deg = pd.concat([edges["origin"], edges["dest"]]).value_counts()
    return deg.reindex(list(city_ids), fill_value=0).astype(int).rename("hsr_degree")


def info_centrality(pair_year: pd.DataFrame, city_ids: Sequence[str], year: int) -> pd.Series:
    """Information centrality ``ln(1 + strength)`` of each city in ``year`` (see module notes)."""
    sub = pair_year[pair_year["year"] == year]
    if sub.empty:
        raise ValueError(f"info_centrality: no pairs in year {year}")
    _require_known(pair_year, city_ids, year, "info_centrality")
    out_s = sub.groupby("origin")["baidu_index"].sum()
    in_s = sub.groupby("dest")["baidu_index"].sum()
    ids = list(city_ids)
    strength = 0.5 * (out_s.reindex(ids, fill_value=0.0) + in_s.reindex(ids, fill_value=0.0))
    return np.log1p(strength).rename("info_centrality")


def _nice(x: float, digits: int = 2) -> float:
    """``x`` rounded to ``digits`` significant digits (class edges that read well in a legend)."""
    if x == 0 or not np.isfinite(x):
        return float(x)
    return float(round(x, -int(np.floor(np.log10(abs(x)))) + digits - 1))


def quantile_breaks(values: Sequence[float], k: int = 5, zero: bool = True) -> list[float]:
    """Class edges: with ``zero``, one class for values <= 0 and ``k`` quantile classes of the
    positive values; edges rounded to 2 significant digits, duplicates dropped. The first edge
    is the minimum and the last the maximum, so every value falls in a class."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("quantile_breaks: no finite values")
    lo, hi = float(v.min()), float(v.max())
    pos = v[v > 0] if zero else v
    inner = [_nice(q) for q in np.quantile(pos, np.linspace(0, 1, k + 1)[1:-1])] if pos.size else []
    edges = [lo] + ([0.0] if zero and lo < 0 < hi else []) + inner + [hi]
    out: list[float] = []
    for e in edges:
        if lo <= e <= hi and (not out or e > out[-1]):
            out.append(float(e))
    if len(out) == 1:
        out.append(out[0])
    return out


def number(x: float) -> str:
    """A class edge for a legend: thousands separators from 100 up, else 3 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def classify(values: Sequence[float], edges: Sequence[float],
             fmt: Callable[[float], str] = number) -> pd.Categorical:
    """Values into the classes ``[e0, e1], (e1, e2], ...`` labelled like the study's legends.

    Values above the last edge get one more class ``> last`` (none if no value is); values below
    the first edge raise. NaN stays NaN (code -1). Empty classes are kept (a legend shows them).
    """
    v = np.asarray(values, float)
    edges = [float(e) for e in edges]
    if len(edges) < 2 or any(b < a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"classify: edges must be at least two, non-decreasing: {edges}")
    if np.any(v[np.isfinite(v)] < edges[0]):
        raise ValueError(f"classify: values below the first edge {edges[0]}")
    labels = [f"[{fmt(edges[0])}, {fmt(edges[1])}]"]
    labels += [f"({fmt(a)}, {fmt(b)}]" for a, b in zip(edges[1:-1], edges[2:])]
    bins = list(edges)
    if np.any(v[np.isfinite(v)] > edges[-1]):
        labels.append(f"> {fmt(edges[-1])}")
        bins.append(np.inf)
    codes = np.searchsorted(np.asarray(bins[1:-1]), v, side="left")
    codes = np.where(np.isfinite(v), codes, -1)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def degree_classes(degree: Sequence[int], k: int = 4) -> pd.Categorical:
    """Integer degrees in classes "0" then up to ``k`` quantile classes of the positive degrees,
    labelled "1-2", "3-5", ... (edges are integers, so every label is exact)."""
    d = np.asarray(degree, int)
    pos = d[d > 0]
    uppers = sorted({int(np.ceil(q)) for q in np.quantile(pos, np.linspace(0, 1, k + 1)[1:])}) if pos.size else []
    labels, lows = ["0"], [0]
    lo = 1
    for up in uppers:
        labels.append(str(lo) if up == lo else f"{lo}-{up}")
        lows.append(lo)
        lo = up + 1
    codes = np.searchsorted(np.asarray(lows[1:]), d, side="right")
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def top_cities(values: pd.Series, names: pd.Series, n: int = 3) -> str:
    """The ``n`` cities with the largest values, as "A (v), B (v), C (v)" (ties by city id)."""
    frame = pd.DataFrame({"v": values, "name": names.reindex(values.index)}).reset_index(names="city")
    frame = frame.sort_values(["v", "city"], ascending=[False, True], kind="mergesort").head(n)
    return ", ".join(f"{r.name} ({r.v:,.3g})" for r in frame.itertuples())


def connectivity_by_year(pair_year: pd.DataFrame) -> pd.DataFrame:
    """Per year: ordered pairs served by at least one HSR line, and the mean daily search index.

    Columns: year, hsr_pairs (count of ordered pairs), mean_index (index units, all ordered pairs).
    """
    out = pair_year.groupby("year").agg(hsr_pairs=("hsr_lines", lambda s: int((s > 0).sum())),
                                        mean_index=("baidu_index", "mean"))
    return out.reset_index()


#: The study's HSR hubs as the deck names them (background section): the "first batch of
#: high-speed railway hub cities" of 2012, and the new hubs of 2017 (urban agglomerations).
PUBLISHED_HSR_HUBS: dict[int, str] = {
    2012: "Shenyang, Beijing, Jinan, Zhengzhou, Wuhan, Nanjing, Shanghai",
    2017: "new hubs: the Chengdu-Chongqing and the central Guizhou (Qianzhong) urban agglomerations",
}
_PUBLISHED_2012_HUBS = ("Shenyang", "Beijing", "Jinan", "Zhengzhou", "Wuhan", "Nanjing", "Shanghai")


def hsr_array(pair_year: pd.DataFrame, city_ids: Sequence[str]) -> tuple[np.ndarray, list[int]]:
    """``hsr_lines`` as an array (origin, dest, year) in the order of ``city_ids`` (0 where absent),
    and the years."""
    ids = list(city_ids)
    years = sorted(int(y) for y in pair_year["year"].unique())
    pos = {c: k for k, c in enumerate(ids)}
    out = np.zeros((len(ids), len(ids), len(years)), dtype=float)
    o = pair_year["origin"].astype(str).map(pos)
    d = pair_year["dest"].astype(str).map(pos)
    t = pair_year["year"].astype(int).map({y: k for k, y in enumerate(years)})
    ok = o.notna() & d.notna()
    out[o[ok].astype(int), d[ok].astype(int), t[ok].astype(int)] = pair_year.loc[ok, "hsr_lines"].to_numpy(float)
    return out, years


def _hubs(summary: dict, year: int) -> str:
    hubs = summary["hubs"].get(str(year), [])
    return ", ".join(f"{n} ({d})" for n, d in hubs) or "none"


def hsr_comparison(pair_year: pd.DataFrame, cities: pd.DataFrame, periods, hub_years: tuple[int, int],
                   other: dict | None = None) -> pd.DataFrame:
    """The HSR network of this build beside the study's figures (connectivity_HSR over ordered
    pairs x periods, yearly counts averaged within each period as the panel does; hubs by HSR
    degree, degree in brackets).

    Columns: statistic, study, this build, and ``other["measure"]`` when ``other`` (a
    ``meta["hsr"]["other_measure"]`` entry: measure and summary) is given. The study's mean, std
    and max are its descriptive statistics (``data/reference/descriptive_stats.csv``); its hubs are
    the deck's."""
    from intercity.reference import descriptive_stats
    from intercity.sources.rail import connectivity_summary

    ids = cities["city_id"].astype(str).tolist()
    names = dict(zip(ids, cities["name_en"]))
    counts, years = hsr_array(pair_year, ids)
    s = connectivity_summary(counts, ids, years, [tuple(p) for p in periods], names, tuple(hub_years), n_hubs=7)
    pub = descriptive_stats().set_index("variable").loc["connectivity_HSR"]
    first, last = hub_years

    def column(summ: dict) -> list[str]:
        found = {n for n, _d in summ["hubs"].get(str(first), [])}
        return [f"{summ['mean']:.3f}", f"{summ['std']:.3f}", f"{summ['max']:g}", f"{summ['share_positive']:.3f}",
                f"{summ['varying_pairs']:,}", f"{summ['pairs_served_last']:,}", _hubs(summ, first), _hubs(summ, last),
                f"{sum(h in found for h in _PUBLISHED_2012_HUBS)} of {len(_PUBLISHED_2012_HUBS)}"]

    rows = ["mean of connectivity_HSR (lines, pair-periods)", "standard deviation", "maximum",
            "share of pair-periods with a line", "ordered pairs whose connectivity_HSR changes between periods",
            f"ordered pairs served by a line in {last}", f"hubs in {first} (HSR degree)", f"hubs in {last} (HSR degree)",
            f"the deck's {first} hubs among the 7 largest degrees"]
    out = pd.DataFrame({"statistic": rows,
                        "study": [f"{pub['mean']:.3f}", f"{pub['std']:.3f}", f"{pub['max']:g}", "not reported",
                                  "not reported", "not reported", PUBLISHED_HSR_HUBS.get(first, "not reported"),
                                  PUBLISHED_HSR_HUBS.get(last, "not reported"), "-"],
                        "this build": column(s)})
    if other:
        out[f"{other['measure']} measure"] = column(other["summary"])
    return out
