"""The rendered book of one parameter set: its staging folder, the check that every chapter comes
from that one set, the generated pages, the HTML build and what is measured after it.

Layout of the book of the set ``<name>`` (``_build/<name>/``, see :func:`book_dir`)::

    stage/      what Sphinx reads: _config.yml, _toc.yml, book/ (the hand-written pages, the
                executed notebooks stamped with their parameter set, figures/, tables/, the
                generated pages) and run.json (the run's timings)
    html/       the rendered book (html/index.html); the set "default" is also copied to _build/html
    .doctrees/  Sphinx's cache
    running/    a chapter being executed;  failed/  a chapter whose last run failed (never rendered)

This module is also the book's Sphinx extension (``intercity.book`` in ``_config.yml``), so that a
plain ``jupyter-book build _build/<name>/stage`` checks and does the same:

- ``builder-inited``: refuse a stage with a chapter missing or chapters from different parameter
  sets (:func:`check_stage`, one line naming the chapters of each set); write the generated pages
  (:func:`write_generated_pages`: the parameter table, the glossary, the tables index); put
  plotly.js and the book's stylesheet in ``_static``;
- ``html-page-context``: plotly.js is loaded only by pages that draw a plotly figure;
- ``build-finished``: copy each page's ``figures/`` and ``tables/`` beside it; fill in the run's
  timings and every page's size on the reproducibility page (:func:`postbuild`).

Errors reach the user as one line (:class:`BookError`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from intercity import paths

#: Key of the stamp in an executed notebook's metadata.
STAMP_KEY = "intercity"
#: Pages written by :func:`write_generated_pages` (docnames under ``book/``) and the table each shows.
GENERATED_TABLES = {"parameters": "parameters", "glossary": "glossary", "table_index": "table-index"}
GENERATED = tuple(GENERATED_TABLES)
#: Folders beside the pages that are copied into the built book as they are.
ASSET_DIRS = ("book/figures", "book/tables")
#: Own-HTML size limits (bytes): every page, and pages drawing a map.
PAGE_LIMIT, MAP_PAGE_LIMIT = 500 * 1024, 2 * 1024 * 1024

CSS = """.intercity-table-wrap{max-width:100%;overflow-x:auto;margin:0 0 1em}
.intercity-table{max-width:100%}
.intercity-table td.num,.intercity-table th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.intercity-table caption{caption-side:top;text-align:left;color:inherit}
.intercity-caption-title{display:block;font-weight:600}
.intercity-caption-note,.intercity-table-context{display:block;font-weight:400;font-size:.9em;margin-top:.2em}
.intercity-table-links{font-size:.85em;margin:.2em 0 0}
.intercity-table td.long{overflow-wrap:anywhere}
.intercity-table td.code{word-break:break-all;font-family:var(--pst-font-family-monospace,monospace);font-size:.85em}
.intercity-results th,.intercity-results td{white-space:normal;overflow-wrap:break-word}
.intercity-results td.num,.intercity-results th.num{overflow-wrap:normal}
.intercity-table thead th,.intercity-table thead th.num{white-space:normal;vertical-align:bottom}
.intercity-table{font-size:.92em}
.intercity-table th,.intercity-table td{padding:.3em .4em}
.intercity-table .v,.intercity-table .pub{display:block}
.intercity-table .sub{display:block;font-size:.8em;font-weight:400;color:var(--pst-color-text-muted,#555);white-space:normal}
.intercity-table .pub{color:var(--pst-color-text-muted,#666)}
.intercity-table .sub.code{font-family:var(--pst-font-family-monospace,monospace)}
.intercity-models th,.intercity-models td,.intercity-paired th,.intercity-paired td{vertical-align:top;padding:.3em .45em}
.intercity-models thead th,.intercity-paired thead th,.intercity-models thead th.num,.intercity-paired thead th.num{vertical-align:bottom;white-space:normal}
.intercity-models tbody th,.intercity-paired tbody th{font-weight:400;text-align:left}
.intercity-models tbody th>.v{font-weight:600}
.intercity-models th,.intercity-models td,.intercity-paired th,.intercity-paired td{overflow-wrap:normal}
.intercity-models tbody th,.intercity-paired tbody th{min-width:8.5em}
.intercity-models td .sub{white-space:nowrap}
.intercity-models tr.intercity-group th{font-weight:600;background:var(--pst-color-surface,#f3f4f6);padding-top:.5em}
.intercity-not-identified{font-style:italic}
.intercity-note-ref{font-size:.75em}
.intercity-table-legend,.intercity-table-notes{font-size:.85em;margin:.2em 0}
.intercity-table-notes{padding-left:1.5em}
@media (min-width:701px){
.intercity-provenance thead th.num{hyphens:auto;overflow-wrap:anywhere}
.intercity-provenance td[data-label="note"]{min-width:12em}
}
@media (max-width:700px){
.intercity-stack,.intercity-stack tbody,.intercity-stack tr,.intercity-stack th,.intercity-stack td{display:block;width:auto}
.intercity-stack caption{display:block}
.intercity-stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.intercity-stack tr{border-top:1px solid var(--pst-color-border,#ccc);padding:.25em 0}
.intercity-stack tbody th{min-width:0}
.intercity-stack tbody th,.intercity-stack td{border:0;padding:.1em .3em;white-space:normal;text-align:left}
.intercity-stack td,.intercity-stack td.num{text-align:right;overflow:hidden;white-space:normal}
.intercity-stack td::before{content:attr(data-label);float:left;max-width:55%;text-align:left;font-weight:600;padding-right:.5em}
.intercity-stack td .v,.intercity-stack td .pub,.intercity-stack td .sub{display:inline;margin-left:.4em}
.intercity-stack td .pub::after{content:" /"}
.intercity-stack tr.intercity-group{border-top:2px solid var(--pst-color-border,#999);padding-top:.6em}
}
.intercity-figure{margin:1em 0;max-width:100%;overflow:hidden}
.intercity-figure figcaption{font-size:.9em;color:#444}
img.intercity-static{max-width:100%;height:auto}
@media print{.intercity-interactive{display:none}}
@media screen{img.intercity-static{display:none}}
"""


class BookError(RuntimeError):
    """The book cannot be rendered; the one-line message names the chapters or the step."""


# ----------------------------------------------------------------------------- locations and stamps

def book_dir(name: str, root: Path | None = None) -> Path:
    """``_build/<name>``: the folder of the book of parameter set ``name``."""
    return Path(root or paths.PROJECT_ROOT) / "_build" / name


def stamp(p) -> dict:
    """The stamp of a notebook executed with :class:`intercity.params.Params` ``p``: the set's name,
    a digest of its values (:func:`intercity.params.digest`) and the values."""
    from intercity import params as params_mod

    values = p.to_dict()
    return {"parameter_set": p.name, "digest": params_mod.digest(values), "values": values}


def read_stamp(path: Path) -> dict | None:
    """The stamp in an executed notebook's metadata, or None (a notebook the runner did not stamp)."""
    meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    return meta.get(STAMP_KEY)


def toc_docs(stage: Path) -> list[str]:
    """The docnames of the stage's ``_toc.yml``, in book order."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    return list(parse_toc_yaml(Path(stage) / "_toc.yml"))


def check_stage(stage: Path, expect: dict | None = None) -> dict:
    """Check that every chapter of the stage's table of contents is there and that all executed
    notebooks carry the stamp of ONE parameter set (and that of ``expect`` when given).

    Returns that stamp. Raises :class:`BookError` (one line) naming the missing chapters, or the
    chapters of each parameter set found.
    """
    stage = Path(stage)
    if not (stage / "_toc.yml").is_file():
        raise BookError(f"{stage}: no staged book here (no _toc.yml); run `python -m intercity build --params FILE`")
    groups: dict[tuple[str, str], list[str]] = {}
    missing, first = [], None
    for doc in toc_docs(stage):
        stem = doc.rsplit("/", 1)[-1]
        if doc.startswith("book/") and stem in GENERATED:
            continue
        nb = stage / f"{doc}.ipynb"
        if nb.is_file():
            st = read_stamp(nb)
            key = (st["parameter_set"], st["digest"]) if st else ("unstamped", "-")
            groups.setdefault(key, []).append(stem)
            first = first or st
        elif not (stage / f"{doc}.md").is_file():
            missing.append(stem)
    if missing:
        raise BookError(f"{stage}: chapter(s) {', '.join(missing)} not executed (never run, or the last run "
                        f"failed: see {stage.parent / 'failed'}); run `python -m intercity build --params FILE` "
                        "without --only")
    wanted = (expect["parameter_set"], expect["digest"]) if expect else None
    if len(groups) > 1 or (wanted and groups and wanted not in groups):
        found = "; ".join(f"set {n} (digest {d}): {', '.join(stems)}" for (n, d), stems in groups.items())
        want = f" (this build: set {wanted[0]}, digest {wanted[1]})" if wanted else ""
        raise BookError(f"{stage}: chapters come from different parameter sets{want}: {found}; "
                        "rebuild them all with `python -m intercity build --params FILE`")
    if first is None:
        raise BookError(f"{stage}: no executed chapter found; run `python -m intercity build --params FILE`")
    if "values" not in first:
        raise BookError(f"{stage}: chapters were not executed by the runner (no parameter stamp); run "
                        "`python -m intercity build --params FILE`")
    return first


def stage_sources(stage: Path, root: Path | None = None, notebook_dir: Path | None = None) -> None:
    """Copy the book's sources (``_config.yml``, ``_toc.yml``, the hand-written files of ``book/``)
    into ``stage`` and remove staged notebooks that no longer have a source notebook."""
    root = Path(root or paths.PROJECT_ROOT)
    notebook_dir = Path(notebook_dir or root / "notebooks")
    stage = Path(stage)
    (stage / "book").mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        _write_if_changed(stage / name, (root / name).read_bytes())
    for f in (root / "book").iterdir():
        if f.is_file() and f.suffix != ".ipynb":
            _write_if_changed(stage / "book" / f.name, f.read_bytes())
    sources = {p.stem for p in notebook_dir.glob("*.ipynb")}
    for f in (stage / "book").glob("*.ipynb"):
        if f.stem not in sources:
            f.unlink()


def _write_if_changed(path: Path, data: bytes | str) -> bool:
    """Write ``data`` unless the file already holds it (keeps Sphinx's incremental build)."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


# ----------------------------------------------------------------------------- generated pages

#: What each parameter means (the parameter page's third column).
PARAMETER_MEANING = {
    "data_source": ("where the data bundle comes from: synthetic, public, ceads (the user's CEADs tables, every other "
                    "variable public), or auto (public when its files can be had)"),
    "scale": "share of the study's 273 cities kept",
    "seed": "seed of every random draw",
    "periods": "the periods (first and last MRIO year); yearly variables are averaged within each",
    "distance_tiers_km": "edges of the great-circle distance tiers (km)",
    "cluster": "headline standard errors: pair (as the study) or twoway (origin and destination city)",
    "money_unit": "unit of the transfer T before IT = sign(T) ln(1 + |T|)",
    "hsr_measure": "how the public source counts the HSR lines serving both cities: full station lists or key stations",
    "name": "name of the parameter set (names the book, _build/<name>, and results/<name>)",
    "ceads": "the user's CEADs files (with data_source ceads only)",
    "ceads.mrio": "the CEADs table of the MRIO year (.mat or spreadsheet)",
    "ceads.layout": "the layout declaration the tables are read by (a JSON file, or a mapping)",
    "ceads.cities": "the cities of the tables in file order (names or adcodes)",
    "ceads.unit": "money unit of the files, converted to 10k yuan",
    "ceads.city_panel": "the user's city panel (replaces imputed and proxy values)",
}


def _expand_ceads(value: dict) -> list[dict]:
    """The ``ceads`` section as one row per file or setting (``ceads.mrio.2012``, ...)."""
    rows = []
    for key, v in value.items():
        if v is None:
            continue
        if isinstance(v, dict) and key in ("mrio", "cities"):
            rows += [{"parameter": f"ceads.{key}.{y}", "value": str(f), "meaning": PARAMETER_MEANING[f"ceads.{key}"]}
                     for y, f in v.items()]
        else:
            rows.append({"parameter": f"ceads.{key}", "value": str(v), "meaning": PARAMETER_MEANING.get(f"ceads.{key}", "")})
    return rows


def parameter_table(values: dict) -> pd.DataFrame:
    """Every parameter of a set with its value as the book uses it and its meaning, then the
    quantities derived from them (cities kept, MRIO years, period and tier labels)."""
    from intercity import params as params_mod
    from intercity.panel import tier_labels

    p = params_mod.from_mapping(values, "stamp")
    shown = {
        "periods": ", ".join(p.period_labels),
        "distance_tiers_km": ", ".join(f"{t:g}" for t in p.distance_tiers_km),
    }
    rows = []
    for k, v in p.to_dict().items():
        if k == "ceads" and isinstance(v, dict):
            rows += _expand_ceads(v)
        else:
            rows.append({"parameter": k, "value": shown.get(k, str(v)), "meaning": PARAMETER_MEANING.get(k, "")})
    rows += [
        {"parameter": "cities kept (derived)", "value": p.cities_kept[0], "meaning": p.cities_kept[1]},
        {"parameter": "MRIO years (derived)", "value": ", ".join(map(str, p.mrio_years)),
         "meaning": "every end point of the periods"},
        {"parameter": "distance tiers (derived)", "value": ", ".join(f"{t} km" for t in tier_labels(p.distance_tiers_km)),
         "meaning": "labels of the tiers; pairs beyond the last edge stay in the panel, outside every tier"},
        {"parameter": "money unit in 10k yuan (derived)", "value": f"{p.money_factor:g}",
         "meaning": "size of one money_unit in 10k yuan (the MRIO tables' unit)"},
    ]
    return pd.DataFrame(rows, columns=["parameter", "value", "meaning"])


def _page(title: str, intro: str, frame: pd.DataFrame, table_id: str, links: dict | None = None,
          after: str = "") -> tuple[str, pd.DataFrame]:
    from intercity import report, tables

    body = report.table_html(frame, caption=tables.spec(table_id).title, table_id=table_id,
                             kind=tables.spec(table_id).kind, links=links, csv_href=tables.csv_name(table_id))
    return f"# {title}\n\n{intro}\n\n{body}\n\n{after}".rstrip() + "\n", frame


def generated_pages(st: dict, notebook_dir: Path | None = None) -> dict[str, tuple[str, pd.DataFrame]]:
    """The generated pages of a book stamped ``st``: docname stem -> (MyST source, table)."""
    import yaml

    from intercity import tables, variables

    values = st["values"]
    yaml_text = yaml.safe_dump(values, sort_keys=False, allow_unicode=True, default_flow_style=None).strip()
    pages = {
        "parameters": _page(
            f"Parameters of this book (set {st['parameter_set']})",
            f"Every chapter of this book was executed with the parameter set `{st['parameter_set']}` (digest of "
            f"its values `{st['digest']}`). The runner stamps each executed notebook with the set's name and "
            "digest, and the HTML build refuses a book whose chapters carry different stamps. To rebuild "
            "this book, save the values below as a YAML file and run "
            "`python -m intercity build --params FILE`.",
            parameter_table(values), "parameters",
            after=f"```yaml\n{yaml_text}\n```"),
        "glossary": _page(
            "Glossary of variables",
            "Every variable of the book: its name in the code and data, the words the tables use for it, the "
            "symbol the study prints, its definition, unit and source, and the function that builds it "
            "(`intercity.variables`, the one table every label comes from). City variables enter the "
            "models for the origin (suffix `_i`) and the destination (`_j`).",
            variables.glossary(values.get("money_unit", "10k yuan")), "glossary"),
        "table_index": _page(
            "Tables index",
            "Every table of the book, where it is shown, the code cell of the source notebook that displays "
            "it (counting the code cells of `notebooks/<page>.ipynb`, the parameters cell included), the "
            "function that builds it and its CSV (written beside the page; the link downloads it). Generated "
            "from the registry `intercity.tables.TABLES`; a test keeps it in step with the notebooks.",
            tables.index(notebook_dir), "table-index",
            links={"table": "{page}.html#{table}", "CSV": "{CSV}"}),
    }
    return pages


def write_generated_pages(stage: Path, st: dict, notebook_dir: Path | None = None) -> list[Path]:
    """Write the generated pages (and their tables' CSVs) into ``stage/book``; returns the pages."""
    from intercity import tables

    out = []
    for stem, (text, frame) in generated_pages(st, notebook_dir).items():
        page = Path(stage) / "book" / f"{stem}.md"
        _write_if_changed(page, text)
        _write_if_changed(Path(stage) / "book" / tables.csv_name(GENERATED_TABLES[stem]), frame.to_csv(index=False))
        out.append(page)
    return out


# ----------------------------------------------------------------------------- after the build

_RESOURCE = re.compile(r"<(script|link|img)\b([^>]*)>", re.I)
_ATTR = re.compile(r"""\b(src|href|rel|loading)\s*=\s*("([^"]*)"|'([^']*)')""", re.I)


def page_resources(page: Path, html_root: Path) -> list[Path]:
    """Local files a page makes the browser fetch on load: scripts, stylesheets, preloads and
    images, except lazy images (the print-only PNGs) and files other scripts load later (e.g.
    MathJax's fonts)."""
    found: list[Path] = []
    for m in _RESOURCE.finditer(page.read_text(encoding="utf-8")):
        tag, attrs = m.group(1).lower(), {a.group(1).lower(): a.group(3) if a.group(3) is not None else a.group(4)
                                          for a in _ATTR.finditer(m.group(2))}
        if tag == "link":
            rel = attrs.get("rel", "").lower()
            if not ("stylesheet" in rel or "preload" in rel or "icon" in rel):
                continue
            url = attrs.get("href")
        else:
            if tag == "img" and attrs.get("loading", "").lower() == "lazy":
                continue
            url = attrs.get("src")
        if not url or re.match(r"^([a-z]+:|//|#)", url, re.I):
            continue
        f = (page.parent / url.split("?")[0].split("#")[0]).resolve()
        if f.is_file() and html_root.resolve() in f.parents and f not in found:
            found.append(f)
    return found


def page_sizes(html_root: Path, docs: list[str], map_pages: set[str]) -> pd.DataFrame:
    """For each page (docname): its own HTML size, transfer size (the HTML plus every file of
    :func:`page_resources`, uncompressed, on a first visit), whether it loads plotly.js, whether it
    draws maps, and its limit (:data:`PAGE_LIMIT`, :data:`MAP_PAGE_LIMIT` for map pages). KB = 1024 bytes."""
    rows = []
    for doc in docs:
        page = html_root / f"{doc}.html"
        if not page.is_file():
            continue
        res = page_resources(page, html_root)
        own = page.stat().st_size
        stem = doc.rsplit("/", 1)[-1]
        limit = MAP_PAGE_LIMIT if stem in map_pages else PAGE_LIMIT
        rows.append({"page": f"{doc}.html", "own HTML (KB)": own / 1024, "transfer (KB)": (own + sum(f.stat().st_size for f in res)) / 1024,
                     "plotly.js": "yes" if any(f.name == "plotly.min.js" for f in res) else "no",
                     "maps": "yes" if stem in map_pages else "no", "limit (KB)": limit / 1024,
                     "within limit": "yes" if own <= limit else "NO"})
    return pd.DataFrame(rows)


def timings_table(run: dict, html_seconds: float | None) -> pd.DataFrame:
    """The run's timings (``stage/run.json`` written by the runner) plus the HTML build: step,
    seconds, note, measured (UTC time of the run that measured the step)."""
    steps = list(run.get("steps", []))
    if html_seconds is not None:
        steps.append({"step": "HTML build (Sphinx, this book)", "seconds": html_seconds, "note": "",
                      "measured": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})
    frame = pd.DataFrame(steps, columns=["step", "seconds", "note", "measured"])
    frame["measured"] = frame["measured"].astype(str).str.removesuffix(" UTC")
    total = pd.DataFrame([{"step": "total", "seconds": frame["seconds"].sum(), "note": "", "measured": ""}])
    out = pd.concat([frame, total], ignore_index=True).rename(columns={"measured": "measured (UTC)"})
    out["seconds"] = out["seconds"].astype(float).round(2)
    return out


def inject(html_root: Path, table_id: str, fragment: str) -> Path | None:
    """Put ``fragment`` between the post-build markers of ``table_id`` in the page holding them
    (:func:`intercity.report.postbuild`); returns that page, or None when no page holds them."""
    pattern = re.compile(rf"(<!--postbuild:{re.escape(table_id)}-->)(.*?)(<!--/postbuild:{re.escape(table_id)}-->)", re.S)
    for page in sorted(html_root.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if f"<!--postbuild:{table_id}-->" in text:
            page.write_text(pattern.sub(lambda m: m.group(1) + fragment + m.group(3), text, count=1), encoding="utf-8")
            return page
    return None


def map_pages() -> set[str]:
    """Notebook stems whose pages draw a map (a registered figure with a ``map-`` id)."""
    from intercity import figures

    return {f.notebook for f in figures.FIGURES if f.id.startswith("map-")}


def postbuild(stage: Path, html_root: Path, html_seconds: float | None = None) -> dict[str, pd.DataFrame]:
    """After the HTML build: fill in the run's timings and the page sizes (iterated until the
    sizes table no longer changes the size of the page it sits on), write both as CSV beside the
    page (``book/tables/run-timings.csv``, ``book/tables/page-sizes.csv``). Returns both tables."""
    from intercity import report, tables

    stage, html_root = Path(stage), Path(html_root)
    run_file = stage / "run.json"
    run = json.loads(run_file.read_text()) if run_file.is_file() else {}
    out = {}

    def put(table_id: str, frame: pd.DataFrame, digits: int) -> Path | None:
        csv = html_root / "book" / tables.csv_name(table_id)
        csv.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(csv, index=False)
        fragment = report.table_html(frame, digits, tables.spec(table_id).title, None, tables.spec(table_id).kind,
                                     csv_href=tables.csv_name(table_id))
        return inject(html_root, table_id, fragment)

    out["run-timings"] = timings_table(run, html_seconds)
    put("run-timings", out["run-timings"], 2)
    docs, maps = toc_docs(stage), map_pages()
    previous = None
    for _ in range(6):  # the sizes table changes its own page's size: iterate to a fixed point
        sizes = page_sizes(html_root, docs, maps)
        shown = sizes.round(1).to_csv(index=False)
        if shown == previous:
            break
        put("page-sizes", sizes, 1)
        previous = shown
    out["page-sizes"] = sizes
    return out


# ----------------------------------------------------------------------------- the Sphinx extension

_STARTED: dict[int, float] = {}


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _on_builder_inited(app) -> None:
    _STARTED[id(app)] = time.perf_counter()
    stage = Path(app.srcdir)
    st = check_stage(stage)
    write_generated_pages(stage, st)
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    src = _plotly_js()
    if not (static / "plotly.min.js").is_file() or (static / "plotly.min.js").stat().st_size != src.stat().st_size:
        shutil.copyfile(src, static / "plotly.min.js")
    _write_if_changed(static / "intercity.css", CSS)


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    if "Plotly.newPlot" in (context.get("body") or ""):
        app.add_js_file("plotly.min.js")


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    stage, outdir = Path(app.srcdir), Path(app.outdir)
    for rel in ASSET_DIRS:
        src = stage / rel
        if src.is_dir():
            shutil.copytree(src, outdir / rel, dirs_exist_ok=True)
    started = _STARTED.pop(id(app), None)
    postbuild(stage, outdir, None if started is None else time.perf_counter() - started)


def setup(app) -> dict:
    """Sphinx entry point (``intercity.book`` in ``_config.yml``'s ``extra_extensions``)."""
    app.connect("builder-inited", _on_builder_inited)
    app.connect("html-page-context", _on_page_context)
    app.connect("build-finished", _on_build_finished)
    app.add_css_file("intercity.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# ----------------------------------------------------------------------------- rendering a set

def render(out: Path, expect: dict | None = None, log=print) -> Path:
    """Render the staged book in ``out/stage`` into ``out/html`` (Jupyter Book 1, warnings as
    errors, nitpicky, keep going), after :func:`check_stage`. Returns the HTML folder.

    Raises :class:`BookError` with one line (the first error of the build; the full log is in
    ``out/sphinx.log``).
    """
    out = Path(out)
    stage = out / "stage"
    check_stage(stage, expect)
    html_dir = out / "html"
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "intercity.book", str(stage), str(html_dir), str(out / ".doctrees")],
                         capture_output=True, text=True, timeout=3600)
    (out / "sphinx.log").write_text(run.stdout + "\n" + run.stderr)
    if run.returncode != 0:
        lines = [ln.strip() for ln in (run.stderr + "\n" + run.stdout).splitlines() if ln.strip()]
        ours = [ln for ln in lines if "BookError" in ln or ln.startswith("intercity")]
        errors = [ln for ln in lines if re.search(r"\b(WARNING|ERROR|Error)\b", ln)]
        first = (ours or errors or lines[-1:] or ["no output"])[0]
        raise BookError(f"HTML build of {stage} failed: {first[:400]} (full log: {out / 'sphinx.log'})")
    log(f"HTML book of {stage.parent.name} in {html_dir} ({time.perf_counter() - t0:.1f} s)")
    return html_dir


def _sphinx_main(argv: list[str]) -> int:
    """``python -m intercity.book STAGE HTML DOCTREES``: Jupyter Book 1's Sphinx build of a stage
    (what ``jupyter-book build STAGE -W -n --keep-going`` runs), into the given folders."""
    from jupyter_book.sphinx import build_sphinx

    stage, html_dir, doctrees = (Path(a).resolve() for a in argv)
    result = build_sphinx(stage, html_dir, use_external_toc=True, noconfig=True,
                          path_config=str(stage / "_config.yml"), doctreedir=doctrees,
                          confoverrides={"external_toc_path": str(stage / "_toc.yml"), "latex_individualpages": False,
                                         "nitpicky": True},
                          builder="html", warningiserror=True, keep_going=True)
    return result if isinstance(result, int) else 1


if __name__ == "__main__":  # pragma: no cover - run by render() in a subprocess
    raise SystemExit(_sphinx_main(sys.argv[1:]))
