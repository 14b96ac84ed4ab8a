"""Plotly figures of the book, in one style (HSR and information keep their colours everywhere).

Maps are drawn on plain longitude/latitude axes (no geo base map, which plotly would fetch
from a CDN), so the book renders offline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLORS = {"connectivity_HSR": "#c0392b", "connectivity_I": "#2471a3", "connectivity_double": "#7d3c98",
          "down_gradient": "#1e8449", "up_gradient": "#b9770e"}
LABELS = {"connectivity_HSR": "HSR connectivity", "connectivity_I": "information connectivity",
          "connectivity_double": "HSR x information"}
REGION_COLORS = {"east": "#2471a3", "central": "#1e8449", "west": "#b9770e", "northeast": "#7d3c98"}


def _map_layout(fig: go.Figure, title: str, lat_mid: float = 35.0) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", height=520, margin=dict(l=40, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.12))
    fig.update_xaxes(title="longitude (°E)", showgrid=False)
    fig.update_yaxes(title="latitude (°N)", showgrid=False, scaleanchor="x",
                     scaleratio=1 / np.cos(np.radians(lat_mid)))
    return fig


def city_map(cities: pd.DataFrame, title: str = "Cities of the sample") -> go.Figure:
    """Every city of the bundle as a point, coloured by NBS region."""
    fig = go.Figure()
    for region, sub in cities.groupby("region", sort=True):
        fig.add_trace(go.Scatter(x=sub["lon"], y=sub["lat"], mode="markers", name=region,
                                 marker=dict(size=7, color=REGION_COLORS.get(region, "#555")),
                                 text=sub["name_en"] + " " + sub["name_zh"],
                                 hovertemplate="%{text}<extra></extra>"))
    return _map_layout(fig, title)


def hsr_network(cities: pd.DataFrame, pair_year: pd.DataFrame, year: int) -> go.Figure:
    """City pairs served by at least one HSR line in ``year`` (segments), over all cities."""
    pos = cities.set_index("city_id")[["lon", "lat"]]
    served = pair_year[(pair_year["year"] == year) & (pair_year["hsr_lines"] > 0)
                       & (pair_year["origin"] < pair_year["dest"])]
    xs, ys = [], []
    for o, d in zip(served["origin"], served["dest"]):
        xs += [pos.at[o, "lon"], pos.at[d, "lon"], None]
        ys += [pos.at[o, "lat"], pos.at[d, "lat"], None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="HSR-connected pair",
                             line=dict(color=COLORS["connectivity_HSR"], width=1), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=cities["lon"], y=cities["lat"], mode="markers", name="city",
                             marker=dict(size=5, color="#444"), text=cities["name_en"],
                             hovertemplate="%{text}<extra></extra>"))
    return _map_layout(fig, f"City pairs connected by HSR, {year} ({len(served):,} pairs)")


def transfer_map(city_transfer: pd.DataFrame, period: str, value: str = "inflow") -> go.Figure:
    """Transfer received (``inflow``) or net transfer of each city in one period, 10k yuan."""
    sub = city_transfer[city_transfer["period"] == period]
    v = sub[value].to_numpy(float)
    signed = np.sign(v) * np.log10(1 + np.abs(v))
    fig = go.Figure(go.Scatter(
        x=sub["lon"], y=sub["lat"], mode="markers",
        marker=dict(size=9, color=signed, colorscale="RdBu", cmid=0,
                    colorbar=dict(title="sign x log10(1+|x|)")),
        text=[f"{n}: {x:,.0f}" for n, x in zip(sub["name_en"], v)],
        hovertemplate="%{text} (10k yuan)<extra></extra>"))
    return _map_layout(fig, f"Industrial transfer {value} by city, {period}")


def histogram(values: pd.Series, title: str, xlabel: str, bins: int = 60) -> go.Figure:
    """Histogram of a panel variable (counts of pair-periods)."""
    fig = go.Figure(go.Histogram(x=values, nbinsx=bins, marker_color="#5d6d7e"))
    fig.update_layout(title=title, template="plotly_white", height=380, bargap=0.02,
                      xaxis_title=xlabel, yaxis_title="pair-periods")
    return fig


def tier_coefficients(results: pd.DataFrame, tiers: list[str], title: str) -> go.Figure:
    """Coefficients with 90% confidence intervals by distance tier, one trace per
    (regressor, gradient); ``results`` are the tidy rows of the tier models."""
    fig = go.Figure()
    offsets = {("connectivity_HSR", "down_gradient"): -0.15, ("connectivity_HSR", "up_gradient"): -0.05,
               ("connectivity_I", "down_gradient"): 0.05, ("connectivity_I", "up_gradient"): 0.15}
    for (reg, sample), off in offsets.items():
        sub = results[(results["regressor"] == reg) & (results["sample"] == sample)].set_index("tier").reindex(tiers)
        x = np.arange(len(tiers)) + off
        fig.add_trace(go.Scatter(
            x=x, y=sub["coef"], mode="markers", name=f"{LABELS[reg]}, {sample.replace('_', '-')}",
            marker=dict(color=COLORS[reg], symbol="circle" if sample == "down_gradient" else "diamond", size=9),
            error_y=dict(type="data", symmetric=False, array=sub["ci90_high"] - sub["coef"],
                         arrayminus=sub["coef"] - sub["ci90_low"], color=COLORS[reg])))
    fig.add_hline(y=0, line=dict(color="#888", dash="dot"))
    fig.update_layout(title=title, template="plotly_white", height=440, legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(tickvals=list(range(len(tiers))), ticktext=[f"{t} km" for t in tiers], title="distance tier")
    fig.update_yaxes(title="coefficient on IT (90% CI)")
    return fig
