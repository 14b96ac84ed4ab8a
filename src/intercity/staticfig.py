"""Static PNG copies of the book's plotly figures, drawn with matplotlib (no browser needed).

Covers what :mod:`intercity.figures` uses: scatter traces (markers, lines, ``fill="toself"``
polygons separated by ``None``), error bars, bars, histograms, horizontal reference lines, axis
titles, ranges, tick labels and an equal-aspect (``scaleanchor``) map frame. Traces with
``meta == "interactive-only"`` are skipped. Output is deterministic (no timestamps in the PNG).
"""

from __future__ import annotations

from pathlib import Path as FilePath

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.figure import Figure

_SYMBOLS = {"circle": "o", "diamond": "D", "square": "s", "star": "*", "triangle-up": "^", "x": "x",
            "cross": "P", "line-ns": "|", "line-ns-open": "|"}
_DASH = {"dot": ":", "dash": "--", "dashdot": "-.", "solid": "-", None: "-"}


def _color(c):
    """Plotly colour strings ("rgb(1, 2, 3)", "rgba(...)", "#hex", names) as matplotlib colours."""
    if isinstance(c, str) and c.startswith("rgb"):
        nums = [float(v) for v in c[c.index("(") + 1:c.index(")")].split(",")]
        rgb = [v / 255 for v in nums[:3]]
        return tuple(rgb + ([nums[3]] if len(nums) > 3 else []))
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], str):
        return [_color(v) for v in c]
    return c


def _segments(xs, ys) -> list[np.ndarray]:
    """Split coordinate lists at ``None``/NaN into arrays of shape (n, 2)."""
    x = np.array([np.nan if v is None else v for v in xs], float)
    y = np.array([np.nan if v is None else v for v in ys], float)
    gap = ~np.isfinite(x) | ~np.isfinite(y)
    out, start = [], 0
    for k in np.flatnonzero(gap).tolist() + [len(x)]:
        if k - start >= 2:
            out.append(np.column_stack([x[start:k], y[start:k]]))
        start = k + 1
    return out


def _text(title) -> str:
    return "" if title is None or title.text is None else str(title.text).replace("<br>", "\n")


def _scatter(ax, t) -> None:
    name = t.name if t.showlegend is not False and t.name else None
    mode = t.mode or "lines+markers"
    xs, ys = list(t.x if t.x is not None else []), list(t.y if t.y is not None else [])
    opacity = 1.0 if t.opacity is None else float(t.opacity)
    if t.fill == "toself":
        rings = _segments(xs, ys)
        fc = _color(t.fillcolor or (t.line.color if t.line and t.line.color else "#999"))
        ec = _color(t.line.color if t.line and t.line.color else "white")
        if not rings:  # an empty class: legend entry only
            if name:
                ax.fill([], [], facecolor=fc, edgecolor=ec, label=name)
            return
        lw = 0.0 if not t.line or t.line.width is None else float(t.line.width) * 0.6
        # one compound path, non-zero winding: counter-clockwise holes stay empty, as in plotly
        path = Path.make_compound_path(*[Path(r, closed=False) for r in rings])
        ax.add_patch(PathPatch(path, facecolor=fc, edgecolor=ec, linewidth=lw, alpha=opacity, label=name,
                               zorder=1))
        ax.update_datalim(np.vstack(rings))
        return
    if "lines" in mode:
        color = _color(t.line.color if t.line and t.line.color else "#444")
        width = float(t.line.width) * 0.75 if t.line and t.line.width is not None else 1.5
        dash = _DASH.get(t.line.dash if t.line else None, "-")
        segs = _segments(xs, ys)
        for k, s in enumerate(segs):
            ax.plot(s[:, 0], s[:, 1], color=color, lw=width, ls=dash, alpha=opacity, zorder=2,
                    label=name if k == 0 and "markers" not in mode else None)
    if "markers" in mode:
        m = t.marker
        color = _color(m.color if m and m.color is not None else "#444")
        if not isinstance(color, (str, tuple)):
            color = list(color)
        size = m.size if m and m.size is not None else 6
        size = (np.asarray(size, float) * 0.75) ** 2 if not np.isscalar(size) else (float(size) * 0.75) ** 2
        symbol = (m.symbol if m else None) or "circle"
        is_open = isinstance(symbol, str) and symbol.endswith("-open")
        marker = _SYMBOLS.get(symbol.removesuffix("-open") if isinstance(symbol, str) else None, "o")
        x = np.array([np.nan if v is None else v for v in xs], float)
        y = np.array([np.nan if v is None else v for v in ys], float)
        edge = _color(m.line.color) if m and m.line and m.line.color else "none"
        if marker in ("|", "_", "x", "+"):  # unfilled markers are drawn in their face colour
            edge = None
        colour = {"color": color} if isinstance(color, (str, tuple)) else {"c": color}
        if is_open and edge is not None and isinstance(color, (str, tuple)):  # plotly "-open": outline only
            # (not for unfilled markers such as "line-ns-open": they have no face, matplotlib draws them in
            # their face colour and warns if given an edge colour)
            colour, edge = {"facecolors": "none"}, color
        ax.scatter(x, y, s=size, marker=marker, alpha=opacity if m.opacity is None else float(m.opacity),
                   edgecolors=edge, linewidths=1.2 if is_open else 0.5, zorder=3, label=name, **colour)
        err = t.error_y
        if err is not None and err.array is not None:
            up = np.asarray(err.array, float)
            down = np.asarray(err.arrayminus if err.arrayminus is not None else err.array, float)
            ax.errorbar(x, y, yerr=[down, up], fmt="none", ecolor=_color(err.color) or color, elinewidth=1, capsize=3,
                        zorder=2)


def _bar(ax, t, offset: float, width: float) -> None:
    numeric = np.issubdtype(np.asarray(t.x).dtype, np.number)
    colour = _color(t.marker.color) if t.marker else None
    if numeric and t.width is not None:  # bars with their own widths (a binned histogram): no offset
        ax.bar(np.asarray(t.x, float), np.asarray(t.y, float), width=np.asarray(t.width, float), color=colour,
               label=t.name if t.showlegend is not False else None)
        return
    x = np.arange(len(t.x)) + offset if not numeric else np.asarray(t.x, float) + offset
    ax.bar(x, np.asarray(t.y, float), width=width, color=colour, label=t.name)


def _axis_key(name: str | None, kind: str) -> str:
    """Layout key of a trace's axis reference ("y2" -> "yaxis2", None/"y" -> "yaxis")."""
    name = name or kind
    return f"{kind}axis{name[1:]}"


def _style_axes(ax, xa, ya, is_map: bool, width_in: float, show_xlabel: bool = True) -> None:
    """Ticks, labels, ranges and grid of one matplotlib axes from a plotly x and y axis."""
    suffix = xa.ticksuffix, ya.ticksuffix
    if suffix[0] or suffix[1]:
        from matplotlib.ticker import FormatStrFormatter
        ax.xaxis.set_major_formatter(FormatStrFormatter(f"%g{suffix[0] or ''}"))
        ax.yaxis.set_major_formatter(FormatStrFormatter(f"%g{suffix[1] or ''}"))
    if show_xlabel:
        ax.set_xlabel(_text(xa.title))
    ax.set_ylabel(_text(ya.title))
    if xa.tickvals is not None:
        ticktext = [str(v) for v in (xa.ticktext or xa.tickvals)]
        ax.set_xticks(list(xa.tickvals), ticktext)
        if sum(len(t) for t in ticktext) > 6 * width_in:  # would overlap: slant them
            ax.tick_params(axis="x", labelrotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
    if ya.tickvals is not None:
        ax.set_yticks(list(ya.tickvals), [str(v) for v in (ya.ticktext or ya.tickvals)], fontsize=7)
    if xa.range is not None:
        ax.set_xlim(*xa.range)
    if ya.range is not None:
        ax.set_ylim(*ya.range)
    if xa.type == "log":
        ax.set_xscale("log")
    if is_map:
        ax.set_aspect(1.0 / float(ya.scaleratio or 1.0))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    else:
        ax.autoscale_view()
        ax.grid(True, color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)


def save_png(fig, path: str | FilePath, width_in: float = 8.0, dpi: int = 100) -> FilePath:
    """Draw ``fig`` (a plotly Figure) with matplotlib into ``path`` (PNG); returns the path.

    Subplots stacked vertically (``make_subplots(rows=n, cols=1)``: traces on y axes ``y``,
    ``y2``, ...) become matplotlib axes stacked in the order and height of the y axes' domains,
    sharing x; the x label is drawn under the bottom one, the legend below it.
    """
    lay = fig.layout
    height_px = lay.height or 450
    is_map = lay.yaxis.scaleanchor is not None
    mfig = Figure(figsize=(width_in, max(3.0, height_px / 100 * (0.95 if is_map else 0.9))), dpi=dpi)
    FigureCanvasAgg(mfig)
    ynames = list(dict.fromkeys((t.yaxis or "y") for t in fig.data if t.visible is not False)) or ["y"]
    domains = {n: tuple(lay[_axis_key(n, "y")].domain or (0, 1)) for n in ynames}
    ynames.sort(key=lambda n: -domains[n][1])  # top first
    if len(ynames) == 1:
        axes = {ynames[0]: mfig.add_subplot(1, 1, 1)}
    else:
        heights = [max(domains[n][1] - domains[n][0], 0.05) for n in ynames]
        axes = dict(zip(ynames, mfig.subplots(len(ynames), 1, sharex=True, gridspec_kw={"height_ratios": heights})))
    top, bottom = axes[ynames[0]], axes[ynames[-1]]
    bars = [t for t in fig.data if t.type == "bar" and t.visible is not False]
    width = 0.8 / max(1, len(bars))
    categories: list = []
    for t in fig.data:
        if t.visible is False or t.meta == "interactive-only":
            continue
        ax = axes.get(t.yaxis or "y", top)
        if t.type == "scatter":
            _scatter(ax, t)
        elif t.type == "bar":
            k = bars.index(t)
            if not np.issubdtype(np.asarray(t.x).dtype, np.number):
                categories = list(t.x)
            _bar(ax, t, (k - (len(bars) - 1) / 2) * width, width)
        elif t.type == "histogram":
            ax.hist(np.asarray(t.x, float), bins=t.nbinsx or 50, color=_color(t.marker.color) if t.marker else None,
                    label=t.name)
    if categories:
        top.set_xticks(range(len(categories)), categories)
    for shape in lay.shapes or ():
        if shape.type == "line" and shape.xref == "x domain":
            ax = axes.get(shape.yref or "y", top)
            ax.axhline(shape.y0, color=_color(shape.line.color) or "#888", ls=_DASH.get(shape.line.dash, "-"), lw=1)
    for k, n in enumerate(ynames):
        trace_x = next((t.xaxis for t in fig.data if (t.yaxis or "y") == n and t.xaxis), "x")
        _style_axes(axes[n], lay[_axis_key(trace_x, "x")], lay[_axis_key(n, "y")], is_map, width_in,
                    show_xlabel=k == len(ynames) - 1)
    top.set_title(_text(lay.title), fontsize=11, loc="left")
    handles, labels = [], []
    for ax in axes.values():
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    extra = []
    if handles and lay.showlegend is not False:
        # as many columns as fit the figure's width at 8 pt (about 0.075 in a character plus the key)
        longest = max(len(lbl) for lbl in labels)
        ncol = int(max(1, min(4, len(labels), width_in // (0.075 * longest + 0.5))))
        mfig.tight_layout()
        # just below everything the bottom axes draw (tick labels, slanted or not, and the axis title)
        box = bottom.get_tightbbox(mfig.canvas.get_renderer()).transformed(bottom.transAxes.inverted())
        extra.append(bottom.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, box.y0 - 0.02),
                                   ncol=ncol, fontsize=8, frameon=False))
    else:
        mfig.tight_layout()
    path = FilePath(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # "tight" grows the canvas to hold the legend and every label: nothing is clipped
    mfig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=0.15,
                 bbox_extra_artists=extra)
    return path
