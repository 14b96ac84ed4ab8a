"""Command line: ``python -m intercity build --params FILE [--only NOTEBOOK] [--out DIR] [--no-html]``,
``python -m intercity html --params FILE [--out DIR]``, ``python -m intercity data prepare --params FILE``,
``python -m intercity data fetch``,
``python -m intercity data fake-ceads --out DIR [--cities N] [--seed S] [--formats mat,xlsx]
[--all-prefectures]`` and ``python -m intercity data template --out FILE`` (the city panel template)."""

from __future__ import annotations

import argparse
import os
import sys

from intercity import params as params_mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="intercity", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the chapters of one parameter set and render its book "
                                     "into _build/<set>/html (the set 'default' also in _build/html)")
    b.add_argument("--params", required=True, help="parameter file, e.g. params/default.yaml")
    b.add_argument("--only", help="run one notebook (file name or stem, e.g. 03_baseline); the HTML build "
                                  "then renders the set's book, or stops if its chapters come from other sets")
    b.add_argument("--out", help="the set's book folder (default: _build/<set>)")
    b.add_argument("--no-html", action="store_true", help="execute the notebooks only (render later with `html`)")
    h = sub.add_parser("html", help="render the staged chapters of one parameter set (refused if they mix sets)")
    h.add_argument("--params", required=True, help="parameter file of the set")
    h.add_argument("--out", help="the set's book folder (default: _build/<set>)")
    d = sub.add_parser("data", help="data steps")
    dsub = d.add_subparsers(dest="action", required=True)
    prep = dsub.add_parser("prepare", help="build (or reuse) the cached bundle and transfers")
    prep.add_argument("--params", required=True)
    fet = dsub.add_parser("fetch", help="copy (mirror) or download the public input files, sha256-checked")
    fet.add_argument("--mirror", help="folder holding the files (default: $INTERCITY_DATA_MIRROR or ../shared/data)")
    fet.add_argument("--dest", help="where to put them (default: data/raw)")
    fet.add_argument("--no-download", action="store_true", help="fail instead of downloading")
    fake = dsub.add_parser("fake-ceads", help="write the synthetic world as fake CEADs city MRIO tables "
                           "(2012, 2015, 2017; .mat and .xlsx), a city list, a city panel and the layout")
    fake.add_argument("--out", required=True, help="folder to write (created if absent)")
    fake.add_argument("--cities", type=int, default=41,
                      help="number of cities (default 41 = the ci scale; 273 = the study's full scale; at most 288, "
                           "or 329 with --all-prefectures)")
    fake.add_argument("--all-prefectures", action="store_true",
                      help="draw the cities from every prefecture-level unit (autonomous prefectures, prefectures and "
                           "leagues too), as the CEADs tables count them (e.g. --cities 313)")
    fake.add_argument("--seed", type=int, default=None, help="seed of the synthetic world (default: that of params/default.yaml)")
    fake.add_argument("--formats", default=None,
                      help="comma-separated: mat, xlsx (default both; .xlsx is skipped above 60 cities unless "
                           "named explicitly with --formats)")
    fake.add_argument("--unit", default="10k yuan", help="money unit of the files: yuan, 10k yuan, million yuan, 100 million yuan")
    fake.add_argument("--export-share", type=float, default=0.05, help="exports as a share of output (default 0.05)")
    tpl = dsub.add_parser("template", help="write the city panel template (CSV, units in its header comment) "
                          "for the parameter ceads.city_panel")
    tpl.add_argument("--out", required=True, help="CSV file to write")
    tpl.add_argument("--years", default="2011-2017", help="first-last year of the rows (default 2011-2017)")
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except Exception as err:  # one line for the user, never a traceback (INTERCITY_DEBUG=1 shows it)
        if os.environ.get("INTERCITY_DEBUG"):
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2


def one_line(err: BaseException) -> str:
    """The error as one line: the package's own errors (which name the file, parameter or value)
    as they are, others with their type."""
    text = " ".join(str(err).split())
    if type(err).__module__.startswith("intercity."):
        return text
    return f"{type(err).__name__}: {text} (set INTERCITY_DEBUG=1 for the traceback)"


def _run(args: argparse.Namespace) -> int:
    if args.command == "data" and args.action == "template":
        from intercity.sources.ceads import panel

        first, _, last = args.years.partition("-")
        if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
            raise params_mod.ParamsError(f"--years {args.years!r}: expected first-last, e.g. 2011-2017")
        path = panel.write_template(args.out, range(int(first), int(last) + 1))
        print(f"city panel template written to {path}: fill in the values you have (units in its header comment), "
              "then name it as ceads.city_panel in your parameter file")
        return 0
    if args.command == "data" and args.action == "fake-ceads":
        from intercity.sources.ceads import fake as ceads_fake

        formats = [f.strip() for f in (args.formats or "mat,xlsx").split(",") if f.strip()]
        done = ceads_fake.write(args.out, n_cities=args.cities,
                                seed=ceads_fake.DEFAULT_SEED if args.seed is None else args.seed,
                                formats=formats, unit=args.unit, export_share=args.export_share,
                                force_xlsx=args.formats is not None, all_prefectures=args.all_prefectures,
                                log=lambda m: print(f"note: {m}", file=sys.stderr))
        for key, value in done.items():
            if key != "seconds":
                print(f"{key:>10}  {value}")
        print(f"{'seconds':>10}  " + ", ".join(f"{k} {v}" for k, v in done["seconds"].items()))
        return 0
    if args.command == "data" and args.action == "fetch":
        from intercity.sources import fetch

        done = fetch.fetch(args.dest, args.mirror, allow_download=not args.no_download)
        for path, action in done.items():
            print(f"{action:>10}  {path}")
        return 0
    if args.command == "build":
        from intercity.runner import main_build

        return main_build(args.params, args.only, args.out, html=not args.no_html)
    if args.command == "html":
        from intercity.runner import main_html

        return main_html(args.params, args.out)
    if args.command == "data" and args.action == "prepare":
        from intercity import pipeline

        p = params_mod.load(args.params)
        s = pipeline.study(p, log=print)
        if s.source == "ceads":  # how the user's tables were read, one line a year
            from intercity.sources import ceads

            for line in ceads.data_step_lines(s.data, p.name):
                print(line)
        print(f"{s.source}: {len(s.data.cities)} cities, {len(s.panel):,} panel rows; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in s.timings.items()))
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
