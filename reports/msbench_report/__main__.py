"""python -m msbench_report RESULTS.json [...] -o FOLDER: charts and index.html.
python -m msbench_report RESULTS.json [...] --csv FILE: the per-run table as CSV.
python -m msbench_report diff BASE.json NEW.json: what changed, with p-values (diff.py)."""

import argparse
import csv
import sys
from pathlib import Path

from . import charts, table
from .html import write_index
from .load import ResultsError, load_any


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "diff":
        from . import diff
        return diff.main(argv[1:])
    ap = argparse.ArgumentParser(prog="msbench_report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+",
                    help="msbench results JSON and/or Google Benchmark JSON files (overlaid)")
    ap.add_argument("-o", "--out", default="out/report", help="folder for charts and index.html")
    ap.add_argument("--csv", metavar="FILE", help="write the per-run table as CSV (no charts)")
    args = ap.parse_args(argv)
    try:
        loaded = [load_any(p) for p in args.results]
    except ResultsError as e:
        print(f"msbench_report: {e}", file=sys.stderr)
        return 2
    docs = [d for d in loaded if d["_kind"] == "results"]
    benches = [d for d in loaded if d["_kind"] == "benchmark"]
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(table.headers())
            for row in table.rows(docs):
                w.writerow(["" if v is None else v for v in row])
        print(f"csv: {args.csv} ({sum(len(d['runs']) for d in docs)} runs)")
        return 0
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    if docs:
        for chart in charts.ALL:
            images += chart(docs, folder)
    if benches:
        for chart in charts.BENCH:
            images += chart(benches, folder)
    write_index(docs, benches, images, folder)
    print(f"charts: {len([i for i in images if i.endswith('.png')])} in {folder}/")
    print(f"report: {folder.resolve() / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
