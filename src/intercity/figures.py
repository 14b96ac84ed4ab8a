"""Plotly figures of the book, in one style (HSR and information keep their colours everywhere).

Maps draw the simplified prefecture polygons of :mod:`intercity.boundaries` as filled scatter
traces (``fill="toself"``) on plain longitude/latitude axes: no geo base map and no tiles (which
plotly would fetch from a CDN), so the book renders offline. Cities without a polygon are drawn as
points in their class colour. :func:`show` puts a figure on the page with its alt text, a caption
naming the data source and a static PNG (matplotlib) for print; :data:`FIGURES` registers every
figure of the book (id = the figure's HTML div id) and feeds the figure index page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from intercity import boundaries as boundaries_mod
from intercity import networks, paths

COLORS = {"connectivity_HSR": "#c0392b", "connectivity_I": "#2471a3", "connectivity_double": "#7d3c98",
          "down_gradient": "#1e8449", "up_gradient": "#b9770e"}
LABELS = {"connectivity_HSR": "HSR connectivity", "connectivity_I": "information connectivity",
          "connectivity_double": "HSR x information"}
REGION_COLORS = {"east": "#2471a3", "central": "#1e8449", "west": "#b9770e", "northeast": "#7d3c98"}
#: First and second period (lines and bars that compare the two periods).
PERIOD_COLORS = ("#5d6d7e", "#d35400")
#: Fill of territory outside the sample (or without data) and of the class "<= 0".
BASE_FILL, BORDER, LOSS_FILL = "#ececec", "#ffffff", "#b7c7d9"
#: Map frame, degrees: mainland China; the South China Sea islands fall outside the frame.
LON_RANGE, LAT_RANGE = (73.0, 135.5), (17.5, 54.0)
#: 10k yuan per billion yuan (transfers are measured in 10k yuan).
BILLION = 1e5
#: The book's plot template: the few settings of plotly's "plotly_white" the figures rely on (white
#: background, light grid, no zero line). plotly writes a figure's template into the page with every
#: figure: "plotly_white" costs about 7 KB a figure (150 KB on the multiverse page's 22 curves),
#: this one a few hundred bytes.
_AXIS = dict(gridcolor="#ebf0f8", linecolor="#ebf0f8", zerolinecolor="#ebf0f8", ticks="", automargin=True)
TEMPLATE = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", font=dict(color="#2a3f5f"), hovermode="closest",
    colorway=["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"],
    xaxis=_AXIS, yaxis=_AXIS, title=dict(x=0.05)))


# ----------------------------------------------------------------------------- map helpers

def _map_layout(fig: go.Figure, title: str, lat_mid: float = 35.0, height: int = 560) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01), template=TEMPLATE, height=height,
                      margin=dict(l=50, r=45, t=50, b=20), legend=dict(orientation="h", y=-0.05, x=0.0),
                      hoverlabel=dict(namelength=-1), modebar=dict(orientation="v"))
    fig.update_xaxes(ticksuffix="°E", showgrid=False, zeroline=False, range=list(LON_RANGE))
    fig.update_yaxes(ticksuffix="°N", showgrid=False, zeroline=False, range=list(LAT_RANGE),
                     scaleanchor="x", scaleratio=float(1 / np.cos(np.radians(lat_mid))))
    return fig


def _rings_xy(polys_of: list[list[list[float]]]) -> tuple[list, list]:
    """Coordinates of many polygons for one ``fill="toself"`` trace, rings separated by None."""
    xs: list = []
    ys: list = []
    for polys in polys_of:
        for rings in polys:
            for ring in rings:
                if xs:
                    xs.append(None)
                    ys.append(None)
                xs += ring[0::2]
                ys += ring[1::2]
    return xs, ys


def _base_layer(shapes: dict, exclude: set[str], name: str = "outside the sample") -> go.Scatter:
    xs, ys = _rings_xy([shapes[k] for k in sorted(shapes) if k not in exclude])
    return go.Scatter(x=xs, y=ys, fill="toself", fillcolor=BASE_FILL, mode="lines", name=name,
                      line=dict(color=BORDER, width=0.5), hoverinfo="skip", showlegend=bool(xs))


def _seats(cities: pd.DataFrame, text: list[str], name: str = "city seat") -> go.Scatter:
    return go.Scatter(x=cities["lon"].to_numpy(float), y=cities["lat"].to_numpy(float), mode="markers",
                      name=name, marker=dict(size=3, color="#333333", opacity=0.55), text=text,
                      hovertemplate="%{text}<extra></extra>", showlegend=False)


def class_map(cities: pd.DataFrame, classes: pd.Categorical, palette: list[str], title: str,
              hover: list[str], shapes: dict | None = None, base_name: str = "outside the sample") -> go.Figure:
    """A choropleth of ``cities`` (rows aligned with ``classes``), one trace per class.

    Territory outside ``cities`` is grey; cities without a polygon are points in the class colour.
    """
    shapes = boundaries_mod.load() if shapes is None else shapes
    ids = cities["city_id"].astype(str).to_numpy()
    fig = go.Figure(_base_layer(shapes, set(ids), base_name))
    codes = np.asarray(classes.codes)
    for k, label in enumerate(classes.categories):
        sel = ids[codes == k]
        with_poly = [c for c in sel if c in shapes]
        points = cities[cities["city_id"].isin([c for c in sel if c not in shapes])]
        name = str(label)
        xs, ys = _rings_xy([shapes[c] for c in with_poly])
        if not xs:  # an empty class keeps its legend entry, as in the study's legends
            xs, ys = [None], [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=palette[k], mode="lines", name=name,
                                 legendgroup=label, line=dict(color=BORDER, width=0.5), hoveron="fills",
                                 hoverinfo="name", showlegend=True))
        if len(points):
            fig.add_trace(go.Scatter(x=points["lon"], y=points["lat"], mode="markers", legendgroup=label,
                                     name=f"{name} (point: no polygon)", showlegend=False,
                                     marker=dict(size=9, color=palette[k], line=dict(color="#333", width=1)),
                                     hoverinfo="skip"))
    fig.add_trace(_seats(cities, hover))
    return fig


def _palette(scale: str, n: int, lo: float = 0.2, hi: float = 0.95) -> list[str]:
    """``n`` colours of a plotly sequential scale from ``lo`` to ``hi`` (0..1)."""
    if n <= 0:
        return []
    return sample_colorscale(scale, list(np.linspace(lo, hi, n))) if n > 1 else sample_colorscale(scale, [hi])


def _signed_classes(values: np.ndarray, k: int = 5) -> tuple[pd.Categorical, list[str]]:
    """Quantile classes of positive values plus one class for <= 0 (if any), and their colours."""
    edges = networks.quantile_breaks(values, k=k, zero=True)
    classes = networks.classify(values, edges)
    n = len(classes.categories)
    has_loss = edges[0] < 0
    return classes, ([LOSS_FILL] + _palette("Oranges", n - 1)) if has_loss else _palette("Oranges", n)


# ----------------------------------------------------------------------------- the maps

def city_map(cities: pd.DataFrame, shapes: dict | None = None, title: str = "Cities of the sample") -> go.Figure:
    """Every city of the bundle coloured by NBS region (polygons, or points without one)."""
    order = [r for r in REGION_COLORS if r in set(cities["region"])]
    classes = pd.Categorical(cities["region"], categories=order, ordered=True)
    hover = [f"{e} {z} ({r})" for e, z, r in zip(cities["name_en"], cities["name_zh"], cities["region"])]
    fig = class_map(cities, classes, [REGION_COLORS[r] for r in order], title, hover, shapes)
    return _map_layout(fig, title)


def transfer_received_map(city_transfer: pd.DataFrame, period: str, shapes: dict | None = None,
                          k: int = 5) -> go.Figure:
    """Industrial transfer received by each city (inflow, billion yuan) in one period, in
    quantile classes of the positive values plus one class for cities with a negative inflow."""
    sub = city_transfer[city_transfer["period"] == period].reset_index(drop=True)
    v = sub["inflow"].to_numpy(float) / BILLION
    classes, palette = _signed_classes(v, k)
    hover = [f"{e} {z}: {x:,.2f} bn yuan received" for e, z, x in zip(sub["name_en"], sub["name_zh"], v)]
    cities = sub.rename(columns={"city": "city_id"})
    title = f"Transfer received by each city, {period} (bn yuan)"
    return _map_layout(class_map(cities, classes, palette, title, hover, shapes), title)


def transfer_from_map(transfers: pd.DataFrame, cities: pd.DataFrame, origin: str, period: str,
                      shapes: dict | None = None, k: int = 5) -> go.Figure:
    """Transfer received from ``origin`` by every other city in one period (billion yuan)."""
    sent = networks.transfer_from(transfers, origin)
    sent = sent[sent["period"] == period]
    dest = cities.merge(sent.rename(columns={"city": "city_id"}), on="city_id", how="inner")
    v = dest["value"].to_numpy(float) / BILLION
    classes, palette = _signed_classes(v, k)
    hover = [f"{e} {z}: {x:,.3f} bn yuan from the origin" for e, z, x in zip(dest["name_en"], dest["name_zh"], v)]
    src = cities[cities["city_id"] == origin].iloc[0]
    title = f"Transfer received from {src['name_en']}, {period} (bn yuan)"
    fig = class_map(dest, classes, palette, title, hover, shapes, base_name="origin, or outside the sample")
    fig.add_trace(go.Scatter(x=[src["lon"]], y=[src["lat"]], mode="markers", name=f"{src['name_en']} (origin)",
                             marker=dict(symbol="star", size=16, color="#111", line=dict(color="white", width=1))))
    return _map_layout(fig, title)


def hsr_network(cities: pd.DataFrame, pair_year: pd.DataFrame, year: int, shapes: dict | None = None) -> go.Figure:
    """HSR-connected city pairs in ``year`` (segments) over the map, cities coloured and sized by
    their HSR degree (number of HSR-connected cities), in classes."""
    shapes = boundaries_mod.load() if shapes is None else shapes
    edges = networks.hsr_edges(pair_year, year)
    degree = networks.hsr_degree(pair_year, cities["city_id"], year)
    pos = cities.set_index("city_id")[["lon", "lat"]]
    xs: list = []
    ys: list = []
    for o, d in zip(edges["origin"], edges["dest"]):
        xs += [pos.at[o, "lon"], pos.at[d, "lon"], None]
        ys += [pos.at[o, "lat"], pos.at[d, "lat"], None]
    fig = go.Figure(_base_layer(shapes, set(), name="prefecture boundaries"))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"HSR-connected pair ({len(edges):,})",
                             line=dict(color=COLORS["connectivity_HSR"], width=1), opacity=0.55, hoverinfo="skip"))
    classes = networks.degree_classes(degree.to_numpy())
    palette = ["#9e9e9e"] + _palette("Reds", len(classes.categories) - 1, 0.45, 1.0)
    codes = np.asarray(classes.codes)
    for k, label in enumerate(classes.categories):
        sub = cities[codes == k]
        if sub.empty:
            continue
        text = [f"{e} {z}: {int(g)} HSR-connected cities" for e, z, g in
                zip(sub["name_en"], sub["name_zh"], degree.reindex(sub["city_id"]))]
        nice = "no HSR link" if label == "0" else f"HSR degree {label}"
        fig.add_trace(go.Scatter(x=sub["lon"], y=sub["lat"], mode="markers", name=nice, text=text,
                                 hovertemplate="%{text}<extra></extra>",
                                 marker=dict(size=4 + 2 * k, color=palette[k], line=dict(color="white", width=0.6))))
    title = f"HSR links and HSR degree, {year} ({len(edges):,} linked city pairs)"
    return _map_layout(fig, title)


def info_centrality_map(cities: pd.DataFrame, pair_year: pd.DataFrame, year: int,
                        shapes: dict | None = None) -> go.Figure:
    """Information-connectivity centrality of each city in ``year`` (ln of the search-index
    strength, see :func:`intercity.networks.info_centrality`) in the study's classes."""
    cent = networks.info_centrality(pair_year, cities["city_id"], year)
    v = cent.to_numpy(float)
    classes = networks.classify(v, networks.INFO_BREAKS, fmt="{:g}".format)
    palette = _palette("Blues", len(classes.categories), 0.12, 1.0)
    hover = [f"{e} {z}: centrality {x:.2f}" for e, z, x in zip(cities["name_en"], cities["name_zh"], v)]
    title = f"Information centrality, {year} (study's classes)"
    return _map_layout(class_map(cities.reset_index(drop=True), classes, palette, title, hover, shapes), title)


# ----------------------------------------------------------------------------- charts

def distance_rank_plot(by_rank: pd.DataFrame) -> go.Figure:
    """Mean (solid) and median (dotted) distance of the destinations at each priority rank."""
    fig = go.Figure()
    for k, (period, sub) in enumerate(by_rank.groupby("period", sort=True)):
        color = PERIOD_COLORS[k % len(PERIOD_COLORS)]
        fig.add_trace(go.Scatter(x=sub["rank"].to_numpy(float), y=sub["mean_km"].to_numpy(float), mode="lines",
                                 name=f"{period}, mean", line=dict(color=color, width=2)))
        fig.add_trace(go.Scatter(x=sub["rank"].to_numpy(float), y=sub["median_km"].to_numpy(float), mode="lines",
                                 name=f"{period}, median", line=dict(color=color, width=1, dash="dot")))
    fig.update_layout(title=dict(text="Distance of destinations by priority rank", x=0.01), template=TEMPLATE,
                      height=420, legend=dict(orientation="h", y=-0.2), margin=dict(l=60, r=20, t=50, b=40))
    fig.update_xaxes(title="priority rank of the destination (1 = largest transfer sent)")
    fig.update_yaxes(title="great-circle distance (km)", rangemode="tozero")
    return fig


def nearest_rank_plot(dist: pd.DataFrame) -> go.Figure:
    """Share of origins whose nearest city gets each priority rank (binned), per period."""
    fig = go.Figure()
    for k, (period, sub) in enumerate(dist.groupby("period", sort=True)):
        fig.add_trace(go.Bar(x=sub["bin"].tolist(), y=sub["share"].to_numpy(float), name=period,
                             marker=dict(color=PERIOD_COLORS[k % len(PERIOD_COLORS)]),
                             hovertemplate="rank %{x}: %{y:.1%} of origins<extra></extra>"))
    fig.update_layout(title=dict(text="Priority rank of the nearest city", x=0.01), template=TEMPLATE,
                      height=400, barmode="group", legend=dict(orientation="h", y=-0.2),
                      margin=dict(l=60, r=20, t=50, b=40))
    fig.update_xaxes(title="priority rank of the nearest city (bins)", type="category")
    fig.update_yaxes(title="share of origins", tickformat=".0%")
    return fig


def histogram(values: pd.Series, title: str, xlabel: str, bins: int = 60) -> go.Figure:
    """Histogram of a panel variable (counts of pair-periods), binned here (numpy, ``bins`` equal
    bins over the finite range) so the page carries ``bins`` bars, not every value."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    counts, edges = np.histogram(x, bins=bins)
    mids, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    fig = go.Figure(go.Bar(x=mids, y=counts, width=widths, marker_color="#5d6d7e", name="pair-periods",
                           customdata=np.column_stack([edges[:-1], edges[1:]]),
                           hovertemplate="%{customdata[0]:.2f} to %{customdata[1]:.2f}: %{y:,} pair-periods<extra></extra>"))
    fig.update_layout(title=title, template=TEMPLATE, height=380, bargap=0.02, showlegend=False,
                      xaxis_title=xlabel, yaxis_title="pair-periods")
    return fig


def _coef_plot(results: pd.DataFrame, tiers: list[str], series: dict[tuple[str, str], dict], title: str) -> go.Figure:
    fig = go.Figure()
    n = len(series)
    for j, ((reg, sample), style) in enumerate(series.items()):
        key = "sample" if "sample" in results.columns else None
        sub = results[(results["regressor"] == reg) & ((results[key] == sample) if key and sample else True)]
        sub = sub.set_index("tier").reindex(tiers)
        x = np.arange(len(tiers)) + (j - (n - 1) / 2) * 0.1
        fig.add_trace(go.Scatter(
            x=x, y=sub["coef"].to_numpy(float), mode="markers", name=style["name"],
            marker=dict(color=COLORS[reg], symbol=style.get("symbol", "circle"), size=9),
            error_y=dict(type="data", symmetric=False, array=(sub["ci90_high"] - sub["coef"]).to_numpy(float),
                         arrayminus=(sub["coef"] - sub["ci90_low"]).to_numpy(float), color=COLORS[reg])))
    fig.add_hline(y=0, line=dict(color="#888", dash="dot"))
    fig.update_layout(title=dict(text=title, x=0.01), template=TEMPLATE, height=440,
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=60, r=20, t=50, b=40))
    fig.update_xaxes(tickvals=list(range(len(tiers))), ticktext=[f"{t} km" for t in tiers], title="distance tier")
    fig.update_yaxes(title="coefficient on IT (90% CI)")
    return fig


def tier_coefficients(results: pd.DataFrame, tiers: list[str], title: str) -> go.Figure:
    """Coefficients with 90% confidence intervals by distance tier, one trace per
    (regressor, gradient); ``results`` are the tidy rows of the tier models."""
    series = {(reg, sample): {"name": f"{LABELS[reg]}, {sample.replace('_', '-')}",
                              "symbol": "circle" if sample == "down_gradient" else "diamond"}
              for reg in ("connectivity_HSR", "connectivity_I") for sample in ("down_gradient", "up_gradient")}
    return _coef_plot(results, tiers, series, title)


def synergy_coefficients(results: pd.DataFrame, tiers: list[str],
                         title: str = "Synergy model by distance tier (90% CI)") -> go.Figure:
    """HSR, information and HSR x information coefficients of the synergy model by tier, down- and
    up-gradient (filled markers down-gradient, open markers up-gradient)."""
    series = {(reg, sample): {"name": f"{LABELS[reg]}, {sample.replace('_', '-')}",
                              "symbol": sym if sample == "down_gradient" else f"{sym}-open"}
              for reg, sym in (("connectivity_HSR", "circle"), ("connectivity_I", "diamond"),
                               ("connectivity_double", "square"))
              for sample in ("down_gradient", "up_gradient")}
    return _coef_plot(results, tiers, series, title)


def lab_estimates(draws: pd.DataFrame, keys: list[str], model_labels: dict[str, str],
                  setting_labels: dict[str, str], title: str, ylabel: str) -> go.Figure:
    """Design lab: each draw's estimate (points) against the true effect (black diamond: the mean
    over draws of the counterfactual estimand), per model (x groups, ``keys`` in order) and knob
    setting (colours, in the order of ``setting_labels``). ``draws``: the rows of
    :func:`intercity.lab.sweep` for one inference method (estimates do not depend on it)."""
    palette = ["#7f8c8d", "#2471a3", "#1e8449", "#c0392b", "#b9770e", "#7d3c98"]
    settings = list(setting_labels)
    width = 0.8 / max(1, len(settings))
    fig = go.Figure()
    truth_x, truth_y, truth_text = [], [], []
    for j, setting in enumerate(settings):
        xs, ys, text = [], [], []
        for i, key in enumerate(keys):
            sub = draws[(draws["key"] == key) & (draws["setting"] == setting)].sort_values("draw")
            centre = i + (j - (len(settings) - 1) / 2) * width
            n = len(sub)
            jitter = (np.arange(n) / max(1, n - 1) - 0.5) * width * 0.6 if n > 1 else np.zeros(n)
            xs += list(centre + jitter)
            ys += list(sub["coef"].to_numpy(float))
            text += [f"{model_labels[key]}, {setting_labels[setting]}, draw {d}" for d in sub["draw"]]
            if n and np.isfinite(sub["estimand"].to_numpy(float)).any():
                truth_x.append(centre)
                truth_y.append(float(np.nanmean(sub["estimand"].to_numpy(float))))
                truth_text.append(f"true effect, {model_labels[key]}, {setting_labels[setting]}")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=setting_labels[setting], text=text,
                                 hovertemplate="%{text}: %{y:.3g}<extra></extra>",
                                 marker=dict(size=6, color=palette[j % len(palette)], opacity=0.75)))
    fig.add_trace(go.Scatter(x=truth_x, y=truth_y, mode="markers", name="true effect (counterfactual)",
                             text=truth_text, hovertemplate="%{text}: %{y:.3g}<extra></extra>",
                             marker=dict(size=11, symbol="diamond", color="#111111", line=dict(color="white", width=1))))
    fig.add_hline(y=0, line=dict(color="#888", dash="dot"))
    fig.update_layout(title=dict(text=title, x=0.01), template=TEMPLATE, height=460,
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=60, r=20, t=50, b=40))
    fig.update_xaxes(tickvals=list(range(len(keys))), ticktext=[model_labels[k] for k in keys],
                     range=[-0.6, len(keys) - 0.4])
    fig.update_yaxes(title=ylabel)
    return fig


#: Colours of a specification's claim result in the specification curve.
RESULT_COLORS = {"holds": "#1e8449", "fails": "#7f8c8d", "not identified": "#d35400"}


def spec_curve(curve) -> go.Figure:
    """A specification curve as Simonsohn, Simmons and Nelson (2020) draw it: above, the estimates
    of one check under every specification, sorted, with 95% intervals (under each
    specification's inference), coloured by whether the claim holds in that specification, the
    study's own choices starred; beneath, one row per value of each choice crossed, marked where a
    specification uses it. ``curve``: :class:`intercity.multiverse.Curve`."""
    from plotly.subplots import make_subplots

    f = curve.frame
    rows = [(title, v, label) for title, vals in curve.panel.items() for v, label in vals]
    n_rows = max(1, len(rows))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.55, 0.45])
    # ranks and choice rows as small integers: plotly writes numeric arrays as typed binary data, so
    # a curve of a few hundred specifications costs a few KB on the page
    x = f["rank"].to_numpy(np.int16 if len(f) and f["rank"].max() < 32_000 else np.int32)
    for result, color in RESULT_COLORS.items():
        on = (f["claim_result"] == result).to_numpy()
        if not on.any():
            continue
        sub = f[on]
        y = sub["coef"].to_numpy(np.float32)  # float32: half the bytes on the page, 7 significant digits
        fig.add_trace(go.Scatter(
            x=x[on], y=y, mode="markers", name=f"claim {result}", marker=dict(color=color, size=4),
            error_y=dict(type="data", symmetric=False, array=(sub["ci95_high"] - sub["coef"]).to_numpy(np.float32),
                         arrayminus=(sub["coef"] - sub["ci95_low"]).to_numpy(np.float32), color=color, thickness=0.6,
                         width=0),
            hovertemplate="rank %{x}: %{y:.4g}<extra></extra>"), row=1, col=1)
    st = f["study_spec"].to_numpy(bool)
    if st.any():
        fig.add_trace(go.Scatter(x=x[st], y=f.loc[st, "coef"].to_numpy(float), mode="markers",
                                 name="the study's choices", marker=dict(symbol="star", size=11, color="#111111"),
                                 hovertemplate="the study's choices: %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_hline(y=0, line=dict(color="#888", dash="dot"), row=1, col=1)
    # the choices beneath: one trace per choice (its values on consecutive rows)
    labels, k = [], 0
    dim_cols = dict(zip(curve.panel, curve.dims))
    for title, vals in curve.panel.items():
        col = f[dim_cols[title]].astype(str).to_numpy()
        ys = np.full(len(f), -1, np.int8 if n_rows < 120 else np.int16)
        for v, label in vals:
            ys[col == v] = n_rows - 1 - k
            labels.append((n_rows - 1 - k, label))
            k += 1
        on = ys >= 0
        fig.add_trace(go.Scatter(x=x[on], y=ys[on], mode="markers", name=title, showlegend=False,
                                 marker=dict(symbol="line-ns-open", size=7, color="#34495e", line=dict(width=1)),
                                 hoverinfo="skip"), row=2, col=1)
    fig.update_layout(title=dict(text=f"Claim {curve.claim}: {curve.key}", x=0.01, font=dict(size=14)),
                      template=TEMPLATE,
                      height=420 + 14 * n_rows, legend=dict(orientation="h", y=-0.12, x=0.0),
                      margin=dict(l=60, r=20, t=50, b=40))
    fig.update_yaxes(title="estimate (95% CI)", row=1, col=1)
    fig.update_yaxes(tickvals=[v for v, _ in labels], ticktext=[t for _, t in labels], range=[-0.7, n_rows - 0.3],
                     showgrid=False, row=2, col=1)
    fig.update_xaxes(title="specification, by rank of the estimate", row=2, col=1)
    return fig


# ----------------------------------------------------------------------------- registry and display

@dataclass(frozen=True)
class FigureSpec:
    """One figure of the book: its div id, the notebook showing it, the figures function that
    draws it, a title, alt text and caption (``str.format`` templates over :func:`show` fields)."""

    id: str
    notebook: str
    function: str
    title: str
    alt: str
    caption: str


_Q = ("Classes: one for cities with a negative value, then quintiles of the positive values "
      "(the deck's legend breaks for this map are not in its text).")
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("map-cities", "01_background", "city_map", "Cities of the sample",
               "Map of China's prefecture-level boundaries with the {n} cities of the sample coloured by region.",
               "Each city of the bundle, coloured by NBS region; grey: prefectures outside the sample."),
    FigureSpec("map-transfer-p1", "01_background", "transfer_received_map",
               "Industrial transfer received, {period}",
               "Choropleth map of the industrial transfer each city received in {period}, in classes (negative, then quintiles).",
               "Sum over origins of the transfer into each city (billion yuan), measured from {mrio}. " + _Q),
    FigureSpec("map-transfer-p2", "01_background", "transfer_received_map",
               "Industrial transfer received, {period}",
               "Choropleth map of the industrial transfer each city received in {period}, in classes (negative, then quintiles).",
               "As above, second period. " + _Q),
    FigureSpec("map-beijing-p1", "01_background", "transfer_from_map", "Transfer received from Beijing, {period}",
               "Choropleth map of the transfer each city received from Beijing in {period}; Beijing marked by a star.",
               "Transfer from Beijing (110000) to each city (billion yuan), measured from {mrio}. " + _Q),
    FigureSpec("map-beijing-p2", "01_background", "transfer_from_map", "Transfer received from Beijing, {period}",
               "Choropleth map of the transfer each city received from Beijing in {period}; Beijing marked by a star.",
               "As above, second period. " + _Q),
    FigureSpec("plot-distance-rank", "01_background", "distance_rank_plot",
               "Distance against priority rank of destinations",
               "Line chart of the mean and median distance of destinations against their priority rank, one pair "
               "of lines per period.",
               "Each origin's destinations ranked by the transfer it sends (1 = largest; measured from {mrio}); great-circle distance "
               "between city seats, averaged over origins at each rank."),
    FigureSpec("plot-nearest-rank", "01_background", "nearest_rank_plot", "Priority rank of the nearest city",
               "Bar chart of the share of origins whose nearest city gets each priority rank, per period.",
               "For each origin, the rank its nearest city gets among its destinations; the first bar is the "
               "probability that the nearest city is the first destination."),
    FigureSpec("map-hsr-first", "01_background", "hsr_network", "HSR network and HSR degree, {year}",
               "Map of HSR links between cities in {year}, cities sized and coloured by the number of cities "
               "they are linked to.",
               "Lines: city pairs (unordered) served by at least one HSR line; points: HSR degree in classes "
               "(quantiles of the positive degrees)."),
    FigureSpec("map-hsr-last", "01_background", "hsr_network", "HSR network and HSR degree, {year}",
               "Map of HSR links between cities in {year}, cities sized and coloured by the number of cities "
               "they are linked to.",
               "As above, last MRIO year."),
    FigureSpec("map-info-first", "01_background", "info_centrality_map",
               "Information-connectivity centrality, {year}",
               "Choropleth map of each city's information-connectivity centrality in {year}, in the study's classes.",
               "ln(1 + sum over partners of the mean daily search index in both directions), in the class "
               f"breaks of the study's legend ({', '.join(f'{e:g}' for e in networks.INFO_BREAKS)}; empty classes "
               "stay in the legend). The sum runs over the cities of this build, so a build with fewer cities "
               "has lower values."),
    FigureSpec("map-info-last", "01_background", "info_centrality_map",
               "Information-connectivity centrality, {year}",
               "Choropleth map of each city's information-connectivity centrality in {year}, in the study's classes.",
               "As above, last MRIO year."),
    FigureSpec("hist-it", "02_measurement", "histogram", "Distribution of IT",
               "Histogram of IT, the signed log of the transfer, over all pair-periods.",
               "IT = sign(T) ln(1 + |T|), T in {money_unit} (the money_unit parameter) measured from {mrio}, for every ordered pair and period of the panel."),
    FigureSpec("tier-plot", "06_distance", "tier_coefficients", "Effect on IT by distance tier",
               "Dot plot of HSR and information coefficients with 90% confidence intervals in each distance "
               "tier, down- and up-gradient.",
               "Gradient models estimated within each great-circle distance tier; bars are 90% confidence "
               "intervals (standard errors clustered as the banner says)."),
    FigureSpec("synergy-plot", "06_distance", "synergy_coefficients", "Synergy model by distance tier",
               "Dot plot of the HSR, information and HSR x information coefficients with 90% confidence "
               "intervals in each distance tier, down- and up-gradient.",
               "Synergy model within each distance tier and gradient half (filled: down-gradient, open: "
               "up-gradient); a tier without a point did not identify that coefficient. Bars are 90% "
               "confidence intervals."),
)
FIGURES += (
    FigureSpec("lab-baseline", "10_design_lab", "lab_estimates",
               "Design lab: baseline estimates against the truth",
               "Dot plot of the estimated baseline coefficients (IT_direction on HSR and on information connectivity) "
               "in each synthetic world, per knob setting, with the true effect of each setting as a diamond.",
               "Each point is the estimate of one synthetic world ({draws} worlds per setting, {cities} cities each); "
               "diamonds are the true effects per unit of connectivity measured by counterfactual MRIO re-solves, "
               "averaged over the worlds."),
    FigureSpec("lab-gradient", "10_design_lab", "lab_estimates",
               "Design lab: gradient estimates against the truth",
               "Dot plot of the estimated gradient-model coefficients (IT on HSR and on information connectivity, "
               "down- and up-gradient) in each synthetic world, per knob setting, with the true effects as diamonds.",
               "As above, for the four gradient models of the study (IT, down- and up-gradient pairs)."),
)
#: Claims with a specification curve (every scorecard claim that rests on regressions).
CURVE_CLAIMS: tuple[str, ...] = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "R1", "R2", "R3", "M1", "M2", "M3", "M4",
                                 "M5", "M6", "M7", "F1", "F2", "F3", "F4", "F5")
FIGURES = FIGURES + tuple(
    FigureSpec(f"curve-{c.lower()}", "11_multiverse", "spec_curve", f"Specification curve of claim {c}",
               "Dot plot of the estimate of {check} under each of {shown} specifications, sorted, with 95% "
               "intervals, and beneath it a grid marking which value of each choice every specification uses.",
               "Specifications of claim " + c + ": {specs} in all ({not_identified} not identified, left out); "
               "{shown} drawn ({thinning}). Colour: whether the whole claim holds in that specification; star: "
               "the study's own choices. Intervals: 95%, under each specification's inference. Estimates of "
               "different outcome transforms are on different scales: read signs and significance across "
               "them, magnitudes within one.")
    for c in CURVE_CLAIMS)
FIGURE_BY_ID = {f.id: f for f in FIGURES}

#: What each source's city MRIO is, for captions (field ``{mrio}`` of :func:`show`): on the public
#: source it is a stand-in for the study's CEADs tables, and a caption must say so.
MRIO_WORDS = {"public": "the stand-in city MRIO (national IO tables regionalised to cities; not the study's CEADs tables)",
              "synthetic": "the synthetic MRIO (a Chenery-Moses world, not China)",
              "ceads": "the user's CEADs city MRIO tables"}


def mrio_words(source: str) -> str:
    """:data:`MRIO_WORDS` of ``source`` ("the <source> source's MRIO" for a source not listed)."""
    return MRIO_WORDS.get(source, f"the {source} source's MRIO")


def source_line(study) -> str:
    """"Data: ..." naming the bundle a figure was drawn from (source, parameter set, cities)."""
    from intercity.report import SOURCE_TEXT

    label = SOURCE_TEXT.get(study.source, (study.source, ""))[0]
    return (f"Data: {label} ({study.source} bundle, parameter set {study.params.name}, "
            f"{len(study.data.cities)} cities).")


def show(fig: go.Figure, fig_id: str, study, static_dir: str | Path = "figures", source: str | None = None,
         **fields) -> None:
    """Display a registered figure: interactive plotly (fixed div id), alt text, a caption naming
    the data source (:func:`source_line` of ``study``, or ``source`` when given: a figure not drawn
    from the study's bundle, such as the design lab's synthetic worlds), and a static PNG written to
    ``static_dir/<id>.png`` (relative to the notebook,
    i.e. beside the page in the built book). The PNG is one file, linked under the figure and shown
    only in print (a lazy image hidden on screen, so a reader on screen never downloads it)."""
    from IPython.display import HTML, display

    from intercity import report, staticfig

    spec = FIGURE_BY_ID[fig_id]
    if "{money_unit}" in spec.alt + spec.title + spec.caption:  # the unit of IT (parameter money_unit)
        fields.setdefault("money_unit", study.params.money_unit)
    if "{mrio}" in spec.alt + spec.title + spec.caption:  # what the transfer is measured from, on this source
        fields.setdefault("mrio", mrio_words(study.source))
    alt, title, caption = (spec.alt.format(**fields), spec.title.format(**fields), spec.caption.format(**fields))
    png = staticfig.save_png(fig, Path(static_dir) / f"{fig_id}.png").as_posix()
    # on screen the caption carries the title: the plot drops its own (a long title is clipped on a phone)
    interactive = go.Figure(fig).update_layout(title=None, margin=dict(t=30))
    plot = report.figure(interactive, fig_id).data
    display(HTML(f'<figure class="intercity-figure"><div class="intercity-interactive" role="img" '
                 f'aria-label="{html.escape(alt)}">{plot}</div>'
                 f'<img class="intercity-static" src="{html.escape(png)}" alt="{html.escape(alt)}" loading="lazy">'
                 f'<figcaption><strong>{html.escape(title)}.</strong> {html.escape(caption)} '
                 f'{html.escape(source or source_line(study))} <a href="{html.escape(png)}" download>Static image (PNG)</a>'
                 "</figcaption></figure>"))


#: The title fields of the figures drawn for one period or year, from the parameter set (what the
#: notebooks pass to :func:`show`): the first/second period's label, the first/last MRIO year.
_PARAM_FIELDS = {
    "map-transfer-p1": lambda p: {"period": p.period_labels[0]},
    "map-transfer-p2": lambda p: {"period": p.period_labels[-1]},
    "map-beijing-p1": lambda p: {"period": p.period_labels[0]},
    "map-beijing-p2": lambda p: {"period": p.period_labels[-1]},
    "map-hsr-first": lambda p: {"year": min(p.mrio_years)},
    "map-hsr-last": lambda p: {"year": max(p.mrio_years)},
    "map-info-first": lambda p: {"year": min(p.mrio_years)},
    "map-info-last": lambda p: {"year": max(p.mrio_years)},
}


def title(fig_id: str, params=None) -> str:
    """The title of registered figure ``fig_id`` as the book shows it: its period or year filled from
    ``params`` (a :class:`intercity.params.Params`: ``period_labels``, ``mrio_years``). Without
    ``params`` a field stays a readable placeholder ("<period>")."""
    spec = FIGURE_BY_ID[fig_id]
    if params is not None and fig_id in _PARAM_FIELDS:
        return spec.title.format(**_PARAM_FIELDS[fig_id](params))
    return spec.title.replace("{period}", "<period>").replace("{year}", "<year>")


def index(params=None, notebook_dir: Path | None = None) -> pd.DataFrame:
    """The figure index: id, title (fields filled from ``params``, see :func:`title`), notebook, code
    cell (1-based, counting code cells) and function, found by looking the id up in the notebook
    sources."""
    notebook_dir = Path(notebook_dir or paths.NOTEBOOK_DIR)
    rows = []
    for f in FIGURES:
        nb = nbformat.read(notebook_dir / f"{f.notebook}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        cells = [k for k, c in enumerate(code, start=1) if f'"{f.id}"' in c.source]
        rows.append({"figure": f.id, "title": title(f.id, params),
                     "notebook": f.notebook, "code cell": cells[0] if cells else None,
                     "function": f"figures.{f.function}"})
    return pd.DataFrame(rows)
