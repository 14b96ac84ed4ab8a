"""What the notebooks show: the data-source banner, glued numbers, tables and figures.

Notebooks call these so that every page names its data source and every number in the prose is
glued from a computed result (myst-nb ``glue``), never typed.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display

from intercity import formatting, reference, schema, scorecard
from intercity import tables as tables_mod

SOURCE_TEXT = {
    "synthetic": ("SYNTHETIC data", "real city names and coordinates; every statistic, the HSR "
                  "rollout, the search index and the MRIO tables are synthetic (seeded), calibrated to "
                  "the study's descriptive statistics. Numbers on this page say nothing about China."),
    "public": ("PUBLIC data", "real public inputs: the Baidu city-to-city search index, HSR lines "
               "from full station lists with section opening dates (lines missing from the lists by their "
               "key stations only), yearbook and GDP/FDI/population "
               "panels; variables no public file has are imputed and flagged per value (see the data "
               "realism table in *Measurement*). The city MRIO is NOT the CEADs table: it is a stand-in "
               "built from the national IO tables (mapped to the book's 41 sectors by description), regionalised with city sector structure "
               "constrained to real provincial output by sector (2015 interpolated) and a distance-gravity trade model."),
    "ceads": ("CEADs city MRIO", "the city MRIO is the user's copy of the CEADs city-level MRIO tables "
              "(read by the declared layout, converted to 10k yuan, mapped to the book's 41 sectors by "
              "description); every other variable (HSR lines, the Baidu search index, the city panel) comes "
              "from the public source, except where the user's own city panel replaces an imputed or proxy "
              "value (flagged 'user'; see the data realism table in *Measurement*)."),
    "ceads-fake": ("the FAKE CEADs tables (synthetic)", "the city MRIO tables are the FAKE CEADs tables: the "
                   "synthetic world written in the CEADs layouts by `python -m intercity data fake-ceads`, not CEADs' "
                   "own tables, so every transfer is the synthetic world's and numbers on this page say nothing about "
                   "China (no claim of the study is testable on them); every other variable comes from the public "
                   "source."),
}


def source_key(data) -> str:
    """The key of :data:`SOURCE_TEXT` for a bundle: its source, or "ceads-fake" when the ceads
    source found the tables to be the fake (``meta["mrio"]["fake"]``,
    :func:`intercity.sources.ceads.fake_evidence`)."""
    if data.source == "ceads" and schema.fake_ceads(data.meta):
        return "ceads-fake"
    return data.source


def ceads_files_text(meta: dict) -> str:
    """One sentence naming the user's CEADs files of a ``ceads`` bundle (its ``meta``), or ''."""
    mrio = meta.get("mrio", {}) if isinstance(meta, dict) else {}
    files = mrio.get("files")
    if not files:
        return ""
    years = ", ".join(f"{y}: `{f['name']}` ({f['cities']} cities x {f['file_sectors']} sectors, sha256 "
                      f"{f['sha256'][:12]})" for y, f in sorted(files.items()))
    folders = sorted({f.get("folder") or str(Path(f["file"]).parent) for f in files.values()})
    where = f" from the folder{'s' if len(folders) > 1 else ''} " + ", ".join(f"`{d}`" for d in folders)
    fake = schema.fake_ceads(meta)
    fake_text = (" These are the FAKE tables (" + "; ".join(fake.get("evidence", [])[:1]) + "): the synthetic world "
                 "written in the CEADs layouts." if fake else "")
    checks = mrio.get("unit_check") or {}
    unit_text = (" Unit check: the tables' value added is " + ", ".join(f"{c['ratio']:.3g} ({y})" for y, c in sorted(checks.items()))
                 + " times the public GDP of the matched cities." if checks else "")
    panel = meta.get("city_panel") or {}
    used = sum(int(r.get("replaced", 0)) for r in panel.get("use", []))
    panel_text = (f" City panel `{panel['name']}`: {used:,} values replace imputed or proxy values."
                  if panel else " No city panel of the user's.")
    outside = mrio.get("cities_outside_panel", 0)
    return (f"CEADs tables ({mrio.get('unit', '')} in the files){where}: {years}.{fake_text}{unit_text} {outside} MRIO "
            f"cities outside the panel stay in the Leontief system (see the ledger).{panel_text}")


def ceads_report(data) -> pd.DataFrame:
    """How the user's CEADs tables were read (:func:`intercity.sources.ceads.report_frame`): one
    row per reader note and unit check; year, file, kind, where, message. The data step prints a
    line a year from it and the runner writes it to ``results/<set>/ceads_report.csv``. On another
    source, one row saying that no CEADs tables were read (the Measurement chapter shows the table
    on every build, so its id and CSV exist on every book)."""
    from intercity.sources import ceads

    frame = ceads.report_frame(data)
    if data.source != "ceads":
        frame = pd.DataFrame([{"year": "", "file": "", "kind": "not ceads", "where": "",
                               "message": f"this build's source is {data.source}: no CEADs tables were read"}],
                             columns=list(ceads.REPORT_COLUMNS))
    return frame


def source_banner(study) -> Markdown:
    """A note naming the data source, scale and parameter set the page was built on, with a link
    to the page listing every parameter of the set (``parameters.md``, written by
    :mod:`intercity.book`) and the digest of the values (the stamp of every executed notebook)."""
    from intercity import params as params_mod

    key = source_key(study.data)
    label, text = SOURCE_TEXT.get(key, (study.source, ""))
    p = study.params
    n = len(study.data.cities)
    md = (f"```{{admonition}} Built on {label}\n:class: {'warning' if key in ('synthetic', 'ceads-fake') else 'note'}\n"
          f"{text}\n\nParameter set `{p.name}` (values digest `{params_mod.digest(p.to_dict())}`; "
          f"[all parameters](parameters.md)): {n} cities, {n * (n - 1):,} ordered pairs x "
          f"{len(p.periods)} periods = {len(study.panel):,} panel rows; seed {p.seed}; "
          f"standard errors clustered by {'pair' if p.cluster == 'pair' else 'origin and destination'}."
          + (f"\n\n{ceads_files_text(study.data.meta)}" if study.source == "ceads" else "")
          + (f"\n\n{study.data.meta['resolution']}." if study.data.meta.get("resolution") else "")
          + "\n```")
    return Markdown(md)


def setup(namespace: dict) -> tuple:
    """A chapter's set-up, its one line: the parameters papermill injected into ``namespace`` (the
    notebook's ``globals()``), the :class:`intercity.pipeline.Study` they define, and the banner
    (:func:`source_banner`) displayed. Returns ``(params, study)``; raises
    :class:`intercity.params.ParamsError` (one line) on a bad parameter."""
    from intercity import params as params_mod, pipeline

    p = params_mod.from_namespace(namespace)
    s = pipeline.study(p)
    display(source_banner(s))
    return p, s


def glue(name: str, value: Any, fmt: str | None = None) -> None:
    """Glue a value for the prose (``{glue:text}`name```); floats formatted with ``fmt``."""
    from myst_nb import glue as _glue

    text = format(value, fmt) if fmt else value
    _glue(name, text, display=False)


def glue_many(values: dict[str, Any], fmt: str | None = None) -> None:
    for k, v in values.items():
        glue(k, v, fmt if isinstance(v, (float, np.floating)) else None)


def table_html(frame: pd.DataFrame, digits: int = 3, caption: str | None = None, table_id: str | None = None,
               kind: str = "data", kinds: dict[str, str] | None = None, links: dict[str, str] | None = None,
               csv_href: str | None = None, title: str | None = None) -> str:
    """A table as HTML in the book's one style: numbers formatted by :mod:`intercity.formatting`
    (right-aligned), text escaped, no index, in a wrapper with the id ``table_id``.

    ``links`` maps a column to a URL template over the row's raw values (``"{page}.html#{table}"``):
    that column's cells become links. ``csv_href``: the table's CSV, linked under the table.
    ``kind`` becomes the class ``intercity-<kind>`` (``results`` tables are held to the page width
    by the browser test). Every table stacks into one block per row on a narrow screen (every cell
    carries its column's name in ``data-label``); a text column holding a word longer than
    :data:`_LONG_TOKEN` characters (a function path) may break it anywhere. ``kinds`` (see :func:`intercity.formatting.format_frame`) may
    also mark a column "code": shown as it is, in monospace, breaking anywhere (hashes).

    A frame marked by ``attrs[intercity.tables.LAYOUT_ATTR]`` is laid out for reading instead:
    "models" (:func:`models_html`: one row per model column, published beside this build) or
    "paired" (:func:`paired_html`: published and this build's statistics in one cell). ``title``
    (the registered title), when given with a ``caption`` that differs, heads the caption in bold.
    """
    layout = frame.attrs.get(tables_mod.LAYOUT_ATTR)
    if layout == "models":
        return models_html(frame, caption, table_id, kind, csv_href, title)
    if layout == "paired":
        return paired_html(frame, digits, caption, table_id, kind, csv_href, title)
    shown = formatting.format_frame(frame, digits, kinds)
    numeric = {c for c in frame.columns
               if (kinds or {}).get(c, formatting.column_kind(c, frame[c].dtype)) in ("number", "count", "p")
               or str((kinds or {}).get(c, "")).startswith("sig")}
    code = {c for c, k in (kinds or {}).items() if k == "code"}
    # text columns holding a long unbroken token (a function path, a file name) may break it anywhere
    long = {c for c in frame.columns if c not in numeric and c not in code
            and any(len(w) > _LONG_TOKEN for v in shown[c] if isinstance(v, str) for w in v.split())}
    links = links or {}
    raw = frame.to_dict("records")
    head = "".join(f'<th{_NUM if c in numeric else ""}>{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for r_raw, r_shown in zip(raw, shown.to_dict("records")):
        cells = []
        for c in frame.columns:
            v = r_shown[c]
            text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            cell = html.escape(text)
            if c in links and text:
                href = links[c].format(**{k: ("" if pd.isna(x) else x) if not isinstance(x, str) else x
                                          for k, x in r_raw.items()})
                cell = f'<a href="{html.escape(href, quote=True)}">{cell}</a>'
            label = f' data-label="{html.escape(str(c), quote=True)}"'
            klass = _NUM if c in numeric else _CODE if c in code else _LONG if c in long else ""
            cells.append(f'<td{klass}{label}>{cell}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _wrap(f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>", len(frame), caption, table_id,
                 kind, csv_href, title, stack=True)


_NUM, _CODE, _LONG = ' class="num"', ' class="code"', ' class="long"'
#: A text column with a word longer than this (characters) may break its words anywhere.
_LONG_TOKEN = 20


def _caption(caption: str | None, title: str | None, context: str = "") -> str:
    """The caption: ``title`` in bold and ``caption`` (the table's note) under it when they differ,
    else the one of them given; then ``context`` (HTML, e.g. what every model shares)."""
    if not caption and not title:
        return f"<caption>{context}</caption>" if context else ""
    if title and caption and caption != title:
        head = (f'<span class="intercity-caption-title">{html.escape(title)}</span>'
                f'<span class="intercity-caption-note">{html.escape(caption)}</span>')
    else:
        head = f'<span class="intercity-caption-title">{html.escape(caption or title)}</span>'
    return f"<caption>{head}{context}</caption>"


def _wrap(inner: str, n_rows: int, caption: str | None, table_id: str | None, kind: str, csv_href: str | None,
          title: str | None, stack: bool, classes: str = "", context: str = "", after: str = "") -> str:
    """The book's table wrapper: ``<div class="intercity-table-wrap" id=...>`` around the table
    (classes ``table intercity-table intercity-<kind>``, plus ``intercity-stack`` when its rows
    stack on a narrow screen), ``context`` (HTML) ending its caption, ``after`` it, and the CSV link."""
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    csv = (f'<p class="intercity-table-links"><a href="{html.escape(csv_href)}" download>Download this table '
           f'(CSV, {n_rows:,} rows)</a></p>' if csv_href else "")
    cls = f"table intercity-table intercity-{html.escape(kind)}" + (" intercity-stack" if stack else "") + classes
    return (f'<div class="intercity-table-wrap"{ident}><table class="{cls}">{_caption(caption, title, context)}'
            f"{inner}</table>{after}{csv}</div>")


def _cell(tag: str, label: str, parts: list[tuple[str, str]], cls: str = "", extra: str = "") -> str:
    """A cell of a reading layout: ``parts`` as (class, text) spans (text escaped), ``data-label``
    for the stacked layout."""
    spans = "".join(f'<span class="{c}">{html.escape(t)}</span>' for c, t in parts if t)
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag}{klass} data-label="{html.escape(label, quote=True)}">{spans}{extra}</{tag}>'


#: Notes on clusterings a models layout does not show (origin, dyadic): left to its CSV.
_UNSHOWN = ("origin-clustered", "dyadic-clustered")
#: What the constant attributes of a models layout are called in its context line.
_CONSTANT_WORDS = {"regressor": "regressor", "dependent": "outcome", "sample": "sample", "tier": "distance"}


def models_html(frame: pd.DataFrame, caption: str | None = None, table_id: str | None = None,
                kind: str = "results", csv_href: str | None = None, title: str | None = None) -> str:
    """A models layout (:func:`intercity.tables.study_layout`, :func:`intercity.tables.synergy_layout`)
    as HTML: a line naming what every model shares, then one row per model column, grouped (a
    ``tbody`` per group, headed by the group's name): the model and what tells it apart; the
    published coefficient with its stars, the parenthesis as printed and what it holds; this
    build's coefficient with the stars of the pair-clustered SE ("not identified" when the model is
    not); the pair-clustered SE with its t; the two-way SE with its p ("p < 0.001", never "0.000")
    and stars; N and R² (published, then this build). Numbers in the book's one format
    (:mod:`intercity.formatting`). Models' notes (not identified, a clustering not reported,
    controls left out of some models) are numbered under the table."""
    published = bool(frame.attrs.get("published", True)) and frame["published coef"].notna().any()
    num = formatting.number
    both = "published / this build" if published else ""
    heads = [("Model", ""), *((("Published", "coefficient (parenthesis): t or SE"),) if published else ()),
             ("This build", "coefficient, stars of the pair SE"), ("SE, pair-clustered", "t"),
             ("SE, two-way", "p, stars"), ("N", both), ("R²", both)]
    #: the same columns' names in the stacked layout of a narrow screen (``data-label``)
    labels = ["Model", *(("Published",) if published else ()), "This build", "SE, pair (t)", "SE, two-way (p)",
              f"N ({both})" if both else "N", f"R² ({both})" if both else "R²"]
    head = "".join(_cell("th", lab, [("v", h), ("sub", sub)], "" if k == 0 else "num")
                   for k, ((h, sub), lab) in enumerate(zip(heads, labels)))
    left_out = set(frame["controls left out"])
    common_out = next(iter(left_out)) if len(left_out) == 1 else ""
    notes: list[str] = []
    bodies = []
    for group, rows in frame.groupby("group", sort=False):
        trs = [f'<tr class="intercity-group"><th colspan="{len(heads)}" scope="rowgroup">{html.escape(group)}</th></tr>']
        for r in rows.to_dict("records"):
            why = [part for part in r["note"].split("; ") if part and not part.startswith(_UNSHOWN)]
            if r["controls left out"] and r["controls left out"] != common_out:
                why.append(f"controls left out: {r['controls left out']}")
            ref = ""
            if why:
                notes.append(f"{r['model']} {r['label'] or group}: {'; '.join(why)}")
                nid = f"{table_id or 'table'}-note-{len(notes)}"
                ref = f'<sup class="intercity-note-ref"><a href="#{html.escape(nid)}">{len(notes)}</a></sup>'
            cells = [_cell("th", labels[0], [("v", r["model"]), ("sub", r["label"])], extra=ref)]
            if published:
                paren = (f"({num(r['published parenthesis'])}) {r['parenthesis holds']}".strip()
                         if pd.notna(r["published parenthesis"]) else "")
                cells.append(_cell("td", labels[1], [("v", f"{num(r['published coef'])}{r['published stars']}"),
                                                     ("sub", paren)], "num"))
            k = len(cells)
            if r["identified"]:
                ours = [("v", f"{num(r['coef'])}{r['stars (pair)']}")]
            else:
                ours = [("v intercity-not-identified", "not identified")]
            pair = [("v", num(r["SE (pair)"])), ("sub", f"t {num(r['t (pair)'], 2)}" if pd.notna(r["t (pair)"]) else "")]
            p2 = formatting.pvalue(r["p (two-way)"])
            two = [("v", num(r["SE (two-way)"])),
                   ("sub", (f"p {p2 if p2.startswith('<') else '= ' + p2} {r['stars (two-way)']}".strip()) if p2 else "")]
            cells += [_cell("td", labels[k], ours, "num"), _cell("td", labels[k + 1], pair, "num"),
                      _cell("td", labels[k + 2], two, "num")]
            for c, lab in (("N", labels[k + 3]), ("R²", labels[k + 4])):
                fmt = formatting.count if c == "N" else num
                pub = [("pub", fmt(r[f"published {c}"]))] if published else []
                cells.append(_cell("td", lab, pub + [("v", fmt(r[c]))], "num"))
            trs.append("<tr>" + "".join(cells) + "</tr>")
        bodies.append("<tbody>" + "".join(trs) + "</tbody>")
    const = frame.attrs.get("constant", {})
    parts = [f"{_CONSTANT_WORDS[a]}: {w}" for a, w in const.items() if a in _CONSTANT_WORDS]
    if "controls" in const:
        parts.append("controls of both cities" if const["controls"] == "with controls" else "no controls")
    if common_out:
        parts.append(f"controls left out: {common_out} (why: see the note)")
    parts.append("pair and period fixed effects")
    context = f'<span class="intercity-table-context">Every model: {html.escape("; ".join(parts))}.</span>'
    after = ('<p class="intercity-table-legend">Published: as printed in the deck; its parenthesis holds a t '
             'statistic or an SE, as its printed stars show ("SE or t": the stars do not tell).</p>'
             if published else "")
    if notes:
        after += '<ol class="intercity-table-notes">' + "".join(
            f'<li id="{html.escape(table_id or "table")}-note-{k}">{html.escape(n)}</li>'
            for k, n in enumerate(notes, start=1)) + "</ol>"
    return _wrap(f"<thead><tr>{head}</tr></thead>{''.join(bodies)}", len(frame), caption, table_id, kind,
                 csv_href, title, stack=True, classes=" intercity-models", context=context, after=after)


def paired_html(frame: pd.DataFrame, digits: int = 3, caption: str | None = None, table_id: str | None = None,
                kind: str = "data", csv_href: str | None = None, title: str | None = None) -> str:
    """A "paired" frame (``attrs["pairs"]``: {statistic: (published column, this build's column)},
    ``attrs["label"]``: the row's name column, ``attrs["sublabel"]``: an optional description
    column) as HTML: one row per variable (its readable name from :func:`intercity.variables.label`,
    the name itself and the description), one column per statistic, each cell the published value
    above this build's. Numbers in the book's one format."""
    from intercity import variables

    pairs: dict[str, tuple[str, str]] = frame.attrs["pairs"]
    label_col, sub_col = frame.attrs["label"], frame.attrs.get("sublabel")
    head = (_cell("th", "variable", [("v", "Variable"), ("sub", "name in the data")])
            + "".join(_cell("th", stat, [("v", stat), ("sub", "published / this build")], "num") for stat in pairs))
    body = []
    for r in frame.to_dict("records"):
        name = str(r[label_col])
        words = variables.label(name)
        cells = [_cell("th", "variable", [("v", words), ("sub code", name if words != name else ""),
                                          ("sub", str(r[sub_col]) if sub_col and isinstance(r[sub_col], str) else "")])]
        cells += [_cell("td", stat,
                        [("pub", formatting.number(r[p], digits)), ("v", formatting.number(r[o], digits))], "num")
                  for stat, (p, o) in pairs.items()]
        body.append("<tr>" + "".join(cells) + "</tr>")
    context = ('<span class="intercity-table-context">In each cell the published value (grey), then this '
               "build's.</span>")
    return _wrap(f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>", len(frame), caption, table_id,
                 kind, csv_href, title, stack=True, classes=" intercity-paired", context=context)


def table(frame: pd.DataFrame, digits: int = 3, caption: str | None = None, id: str | None = None,
          kinds: dict[str, str] | None = None, links: dict[str, str] | None = None,
          csv_dir: str | Path = "tables") -> HTML:
    """A table of the book: formatted HTML (:func:`table_html`) and, when ``id`` names a table of
    the registry :data:`intercity.tables.TABLES`, its CSV written to ``csv_dir/<id>.csv``
    (relative to the notebook, i.e. beside the page) and linked under it. ``caption`` defaults to
    the registered title. The CSV holds the frame's raw values (full precision, no formatting).

    Raises ``KeyError`` (one line naming the id) when ``id`` is not registered.
    """
    kind, href, title = "data", None, None
    if id is not None:
        spec = tables_mod.spec(id)
        kind = spec.kind
        caption = spec.title if caption is None else caption
        title = spec.title if frame.attrs.get(tables_mod.LAYOUT_ATTR) else None
        path = Path(csv_dir) / f"{id}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        href = path.as_posix()
    return HTML(table_html(frame, digits, caption, id, kind, kinds, links, href, title))


def postbuild(table_id: str) -> HTML:
    """A placeholder for a table that only exists once the HTML book is built (the run's timings,
    the page sizes): :mod:`intercity.book` fills it in after the build, between the markers."""
    spec = tables_mod.spec(table_id)
    if not spec.postbuild:
        raise KeyError(f"table {table_id!r} is not a post-build table (TableSpec.postbuild is False)")
    return HTML(f'<div class="intercity-postbuild" id="{table_id}"><!--postbuild:{table_id}-->'
                f"<p><em>{html.escape(spec.title)}: filled in after the HTML build.</em></p>"
                f"<!--/postbuild:{table_id}--></div>")


def _rounded(values, digits: int = 9):
    """Float arrays rounded to ``digits`` significant digits (display only: stable across BLAS
    thread counts, whose last-bit differences would otherwise change the page)."""
    arr = np.asarray(values)
    if arr.dtype.kind != "f":
        return values
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(arr == 0, 0, np.floor(np.log10(np.abs(np.where(arr == 0, 1, arr)))))
    return np.round(arr / 10 ** mag, digits - 1) * 10 ** mag


def figure(fig, div_id: str) -> HTML:
    """A plotly figure as HTML that uses the book's own plotly.js (no CDN) and a fixed div id."""
    for trace in fig.data:
        for attr in ("x", "y"):
            if getattr(trace, attr, None) is not None:
                setattr(trace, attr, _rounded(getattr(trace, attr)))
        err = getattr(trace, "error_y", None)
        if err is not None and err.array is not None:
            err.array, err.arrayminus = _rounded(err.array), _rounded(err.arrayminus)
        marker = getattr(trace, "marker", None)
        if marker is not None and marker.color is not None and not isinstance(marker.color, str):
            marker.color = _rounded(marker.color)
    return HTML(fig.to_html(include_plotlyjs=False, full_html=False, include_mathjax=False,
                            div_id=div_id, config={"displaylogo": False, "responsive": True}))


def descriptive_comparison(panel: pd.DataFrame) -> pd.DataFrame:
    """Published descriptive statistics beside the same statistics of this build's panel.

    Columns: variable, then "published <stat>" and "<stat>" for mean, sd, min and max, and the
    study's description; marked for the paired layout (:func:`paired_html`: each statistic one
    column, the published value above this build's), so that no statistic hides off the page.
    City variables are the origin's (``edl_i`` for ``edl``): each city is an origin n-1 times.
    """
    pub = reference.descriptive_stats()
    rows = []
    for r in pub.itertuples():
        col = r.variable if r.variable in panel.columns else f"{r.variable}_i"
        x = panel[col].astype(float)
        rows.append({"variable": r.variable, "published mean": r.mean, "mean": x.mean(),
                     "published sd": r.std, "sd": x.std(), "published min": r.min, "min": x.min(),
                     "published max": r.max, "max": x.max(), "description": r.description})
    out = pd.DataFrame(rows)
    out.attrs.update({tables_mod.LAYOUT_ATTR: "paired", "label": "variable", "sublabel": "description",
                      "pairs": {s: (f"published {s}", s) for s in ("mean", "sd", "min", "max")}})
    return out


def show(obj) -> None:
    display(obj)


def effect_words(coef: float, p: float) -> str:
    """Plain words for an estimate: sign and significance at the 5% level, with p."""
    if pd.isna(coef):
        return "not identified in this sample"
    sign = "positive" if coef > 0 else "negative"
    sig = "significant" if p < 0.05 else "not significant"
    pv = formatting.pvalue(p)
    return f"{sign} and {sig} at 5% (coefficient {formatting.significant(coef)}, p {pv if pv.startswith('<') else '= ' + pv})"


def glue_effects(compared: pd.DataFrame, table_name: str) -> None:
    """Glue, for every column of a published table, this build's and the published effect.

    Names: ``<table>_<column>_ours`` (words), ``<table>_<column>_pub`` (coefficient as printed).
    """
    for r in compared[compared["table"] == table_name].itertuples():
        glue(f"{table_name}_{r.column}_ours", effect_words(r.coef, r.p))
        glue(f"{table_name}_{r.column}_pub", f"{r.published_coef:g}{r.published_stars}")


def parameter_sets(directory=None) -> pd.DataFrame:
    """One row per parameter file of ``params/`` (or ``directory``): file, data source, scale,
    cities (:attr:`intercity.params.Params.cities_kept`: a number, or every city the inputs cover), seed, cluster, distance tiers; a set that does not validate here (e.g. a CEADs set whose
    files are not on this machine) is listed with the reason in ``note`` instead of stopping the page."""
    from pathlib import Path

    from intercity import params as params_mod
    from intercity import paths

    directory = Path(directory or paths.PARAMS_DIR)
    rows = []
    for f in sorted(directory.glob("*.yaml")):
        row = {"file": f"params/{f.name}"}
        try:
            p = params_mod.load(f)
        except params_mod.ParamsError as err:
            row["note"] = ("not usable on this machine: "
                           + str(err).removeprefix(f"{f}: ").replace(f"{paths.PROJECT_ROOT}/", ""))
        else:
            row.update({"data_source": p.data_source, "scale": p.scale, "cities": p.cities_kept[0], "seed": p.seed,
                        "cluster": p.cluster, "distance tiers (km)": ", ".join(f"{t:g}" for t in p.distance_tiers_km),
                        "note": ""})
        rows.append(row)
    cols = ["file", "data_source", "scale", "cities", "seed", "cluster", "distance tiers (km)", "note"]
    out = pd.DataFrame(rows, columns=cols)
    out["seed"] = [f"{int(v)}" if pd.notna(v) else "" for v in out["seed"]]
    out["cities"] = out["cities"].fillna("").astype(str)
    text = ["data_source", "cluster", "distance tiers (km)", "note"]
    out[text] = out[text].fillna("")
    return out


def measurement_checks(checks: pd.DataFrame) -> pd.DataFrame:
    """The measurement chapter's consistency checks: glue ``meas_checks_text`` (a sentence that
    fits the MRIO form of the build) and return the checks table to show (readable column names,
    without timings).

    Structured systems (synthetic, public): summing the induced output over cities reproduces the
    national Leontief system exactly, and the first year is solved in dense form too. Dense
    systems (CEADs): the residual of the solve, and the gap to the national system, which for a
    dense table is aggregation bias, not an error (:func:`intercity.mrio.national_system`).
    """
    dense = checks[checks["form"] == "DenseMRIO"]
    structured = checks[checks["form"] == "StructuredMRIO"]
    parts = []
    if len(structured):
        parts.append("Summing induced output over cities must reproduce the national Leontief system; the largest "
                     f"relative gap in this build is {structured['national_gap'].max():.1e}.")
        compared = structured.dropna(subset=["dense_gap"])
        if len(compared):
            parts.append(f"The same system of {int(compared['year'].min())} is also solved in dense form (the full "
                         "city x sector matrix and its LU factorisation, as the CEADs tables are); the two forms "
                         f"differ by at most {compared['dense_gap'].max():.1e} of the largest induced output.")
    if len(dense):
        rows = int(dense["cities"].max() * dense["sectors"].max())
        solvers = "; ".join(sorted(set(dense["solver"])))
        parts.append(f"The {'CEADs tables are' if len(structured) == 0 else 'dense tables are'} dense: each year's "
                     f"Leontief matrix I - A (up to {rows:,} rows) is LU-factorised once and solved for every "
                     f"demanding city at once ({solvers}); the largest relative residual max|F - (I - A) X| / max|F| "
                     f"is {dense['residual'].max():.1e}. Summed over cities, a dense table gives a national system "
                     "only up to aggregation bias: the largest gap between the induced output summed over cities and "
                     f"that national system's solution, {dense['national_gap'].max():.1e}, measures how much the "
                     "cities' input structures differ from their average, not an error.")
    glue("meas_checks_text", " ".join(parts))
    shown = checks.drop(columns=[c for c in ("seconds", "dense_seconds") if c in checks.columns])
    if shown["residual"].isna().all():
        shown = shown.drop(columns=["residual"])
    if shown["dense_gap"].isna().all():
        shown = shown.drop(columns=["dense_gap"])
    return shown.rename(columns={"national_gap": "max relative gap to the national Leontief solution",
                                 "dense_gap": "max relative gap, dense LU vs structured solve",
                                 "residual": "relative residual of the solve"})


#: The MRIO of each source, for the data realism table: (status, provenance, note).
MRIO_REALISM = {
    "synthetic": ("synthetic", "synthetic", "synthetic Chenery-Moses MRIO (national coefficients x gravity trade shares)"),
    "public": ("proxy", "proxy", "stand-in for the CEADs tables: national IO tables regionalised to cities"),
    "ceads": ("user", "user", "the user's CEADs city MRIO tables"),
    "ceads-fake": ("synthetic", "synthetic", "the FAKE CEADs tables: the synthetic world in the CEADs layouts"),
}


def data_realism(data) -> pd.DataFrame:
    """For each variable of the bundle: real, partial, proxy, imputed, user or synthetic, with coverage;
    and a last row for the city MRIO (synthetic, the public stand-in, or the user's CEADs tables).

    Coverage counts the values by provenance (``prov_<variable>`` columns, one of
    :data:`intercity.schema.PROVENANCE`). Status: "synthetic" when any value is generated; "proxy"
    when any value is another quantity standing in for the variable; "user" when every value
    comes from the user's own file; "imputed" when none is observed, interpolated or the user's;
    "real" when every value is observed; else "partial". The source's own note on the variable
    (``meta["variables"]``) is shown where it has one.
    """
    from intercity.schema import PROVENANCE

    meta = data.meta if isinstance(data.meta, dict) else {}
    notes = dict(meta.get("variables", {}))
    incomplete = {}  # observed values that the source itself says are incomplete
    if meta.get("hsr", {}).get("missing"):
        incomplete["hsr_lines"] = f"observed lines; missing: {meta['hsr']['missing']}"
    rows = []
    for table, frame in (("city_year", data.city_year), ("pair_year", data.pair_year)):
        for col in [c for c in frame.columns if c.startswith("prov_")]:
            var = col[len("prov_"):]
            shares = frame[col].astype(str).value_counts(normalize=True)
            share = {k: float(shares.get(k, 0.0)) for k in PROVENANCE}
            measured = share["observed"] + share["interpolated"] + share["user"]
            status = ("synthetic" if share["synthetic"] > 0 else "proxy" if share["proxy"] > 0
                      else "user" if share["user"] == 1.0 else "imputed" if measured == 0.0
                      else "real" if share["observed"] == 1.0 and var not in incomplete else "partial")
            rows.append({"variable": var, "table": table, "status": status,
                         **{f"% {k}": 100 * share[k] for k in PROVENANCE},
                         "note": incomplete.get(var, notes.get(var, ""))})
    if source_key(data) in MRIO_REALISM:
        status, prov, note = MRIO_REALISM[source_key(data)]
        note = (meta.get("mrio", {}) or {}).get("note", note) if isinstance(meta.get("mrio"), dict) else note
        rows.append({"variable": "city MRIO (Z, F, x)", "table": "mrio", "status": status,
                     **{f"% {k}": 100.0 * (k == prov) for k in PROVENANCE}, "note": note})
    return pd.DataFrame(rows)


def mrio_note(data) -> Markdown:
    """The source's note on its MRIO (``meta["mrio"]``): for the public stand-in, what it is built
    from, the provincial constraint (which years' shares are observed and which interpolated), how
    much output the constraint moves between provinces, and the provinces the sample covers only
    in part; for CEADs, what the tables are. Empty for a source without such a note (synthetic)."""
    meta = data.meta.get("mrio", {}) if isinstance(data.meta, dict) else {}
    if not meta.get("note"):
        return Markdown("")
    text = f"**The MRIO of this source.** {meta['note']}"
    prov = meta.get("provincial")
    if prov:
        by_year = prov.get("by_year", {})
        years = "; ".join(f"{y}: {v['shares']}" for y, v in by_year.items())
        moved = ", ".join(f"{100 * v['misallocated_without_constraint']:.0f}% in {y}" for y, v in by_year.items())
        text += (f"\n\nProvincial gross output by sector (`{prov['file']}`, {prov['unit']}), each province's "
                 f"share of national output of each sector: {years}. Years whose shares are interpolated: "
                 f"{', '.join(prov.get('interpolated', [])) or 'none'}. Without this constraint the stand-in would "
                 f"put {moved} of national output in another province than these data do. National output by "
                 "sector stays the national table's: the provincial data only shape its distribution.")
        partial = {y: v["partial_coverage"] for y, v in by_year.items() if v.get("partial_coverage")}
        if partial:
            last = max(partial)
            text += (" Where the sample's cities cover only part of a province (autonomous prefectures, "
                     "leagues and prefectures are not cities), the province's share is scaled by the part "
                     f"covered ({last}: " + ", ".join(f"{k} {v:.2f}" for k, v in partial[last].items()) + ").")
    return Markdown(text)


def search_direction_text(data) -> str:
    """One sentence on which city of a pair searches which in ``baidu_index`` and on what evidence."""
    sd = data.meta.get("search_direction") if isinstance(data.meta, dict) else None
    if not sd:
        return ("In the synthetic world the index is generated as searches by users in the origin "
                "about the destination (origin -> destination), by construction.")
    evidence = ", ".join(f"{k} {v:.2f}" for k, v in sd.items() if isinstance(v, float))
    return (f"Convention: {sd.get('convention', '')}. Established from the data: "
            f"{sd.get('verdict', '')} ({evidence}).")


#: The study's sector groups in words, for tables and prose.
GROUP_WORDS = {"all": "all sectors",
               "labor": "labour-intensive (agriculture, 01)",
               "capital": "capital-intensive (electricity and heat, 25)",
               "tech": "technology-intensive (information transmission, software and IT, 32)"}


def group_transfer_shares(study) -> pd.DataFrame:
    """Per period and sector group: the share of ordered pairs with a positive transfer (this
    build's panel) beside the growth of the national output of the group's sectors induced by
    domestic final demand (the build's MRIO summed over cities, :func:`intercity.mrio.national_system`).

    Columns: period, sector group (in words), pairs, "% pairs with a positive transfer",
    "national induced output, % change". A share far on the other side of 50% from the national
    change, or near 0 or 100%, would say that the sectors of the two years do not match.
    """
    from intercity import mrio, transfer

    shares = transfer.positive_shares(study.transfers)
    years = sorted(study.data.mrio)
    sectors = study.data.mrio[years[0]].sectors
    nat = {y: mrio.national_system(m).x for y, m in study.data.mrio.items()}
    growth = transfer.national_growth(nat, list(study.params.periods), sectors)
    out = shares.merge(growth, on=["period", "group"], how="left")
    return pd.DataFrame({"period": out["period"], "sector group": out["group"].map(GROUP_WORDS),
                         "pairs": out["pairs"],
                         "% pairs with a positive transfer": 100.0 * out["share_positive"],
                         "national induced output, % change": 100.0 * out["growth"]})


def glue_group_shares(study) -> pd.DataFrame:
    """Glue the capital-intensive positive share and national change of the first and last period
    (``meas_cap_pos_first``/``_last``, ``meas_cap_growth_first``/``_last``,
    ``meas_period_first``/``_last``); returns :func:`group_transfer_shares`."""
    table = group_transfer_shares(study)
    cap = table[table["sector group"] == GROUP_WORDS["capital"]].reset_index(drop=True)
    for k, which in ((0, "first"), (len(cap) - 1, "last")):
        glue(f"meas_period_{which}", cap.at[k, "period"])
        glue(f"meas_cap_pos_{which}", f"{cap.at[k, '% pairs with a positive transfer']:.1f}%")
        glue(f"meas_cap_growth_{which}", f"{cap.at[k, 'national induced output, % change']:+.1f}%")
    return table


# ----------------------------------------------------------------------------- the scorecard in the prose

def glue_scorecard(card: pd.DataFrame, source) -> None:
    """Glue the scorecard's headline counts (``score_<name>``, :func:`intercity.scorecard.headline`)
    and the sentence on what "testable" means on this source (``score_rule``)."""
    glue_many({f"score_{k}": v for k, v in scorecard.headline(card).items()})
    glue("score_rule", scorecard.rule_sentence(card, source))
    glue("score_min_varying_pairs", scorecard.MIN_VARYING_PAIRS)
    glue("score_study_tiers", ", ".join(scorecard.STUDY_TIERS))


def glue_claims(card: pd.DataFrame, section: str) -> None:
    """Glue the number of claims of ``section`` (``claims_<section>_n``, lower case) and, for each,
    its words (``claim_<id>_claim``) and this build's verdict under both clusterings in a sentence
    (``claim_<id>``, :func:`intercity.scorecard.claim_sentence`)."""
    sub = card[card["section"] == section]
    if sub.empty:
        raise KeyError(f"no claims in section {section!r}; known: {sorted(card['section'].unique())}")
    glue(f"claims_{section.lower()}_n", len(sub))
    for r in sub.to_dict("records"):
        glue(f"claim_{r['id']}_claim", r["claim"])
        glue(f"claim_{r['id']}", scorecard.claim_sentence(r))


def glue_headline_cluster(params) -> None:
    """Glue ``headline_cluster``: the clustering of the headline standard errors, in words."""
    glue("headline_cluster", scorecard.CLUSTER_WORDS[params.cluster])


def glue_distance(estimates: pd.DataFrame, facts) -> None:
    """Glue the distance chapter's answers (:func:`intercity.scorecard.distance_findings`)."""
    glue_many(scorecard.distance_findings(estimates, facts))
