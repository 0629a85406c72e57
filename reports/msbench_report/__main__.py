"""python -m msbench_report RESULTS.json [...] -o FOLDER: charts and index.html."""

import argparse
import html
import sys
from pathlib import Path

from . import charts
from .load import ResultsError, load_any


def summary_rows(docs):
    for doc in docs:
        for run in doc["runs"]:
            c, s = run["config"], run["socket_action_us"]["socket"]
            yield [Path(doc["_path"]).name, c["backend"], c["sockindex"], c["connections"],
                   run.get("connections_open", ""), s["count"], f'{s["p50_us"]:.2f}',
                   f'{s["p99_us"]:.2f}', f'{s["max_us"]:.2f}',
                   "yes" if run["accounting"]["holds"] else "NO",
                   "partial" if run.get("partial") else ""]


def write_index(docs, benches, images, folder):
    head = ["file", "backend", "sockindex", "connections", "open", "calls", "p50 µs", "p99 µs",
            "max µs", "accounted", ""]
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                   for r in summary_rows(docs))
    machines = "".join(
        f"<li>{html.escape(Path(d['_path']).name)}: {html.escape(d['machine']['cpu'])}, "
        f"{d['machine']['cores']} cores, {html.escape(d['machine']['kernel'])}, "
        f"commit {html.escape(d['machine']['git_commit'])}</li>" for d in docs)
    machines += "".join(
        f"<li>{html.escape(Path(b['_path']).name)}: Google Benchmark, "
        f"{b['context'].get('num_cpus', '?')} cpus at {b['context'].get('mhz_per_cpu', '?')} MHz, "
        f"{html.escape(str(b['context'].get('date', '')))}</li>" for b in benches)
    figures = "".join(f'<figure><img src="{html.escape(i)}"><figcaption>{html.escape(i)}'
                      f"</figcaption></figure>" for i in images if i.endswith(".png"))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>msbench report</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:right}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#f4f4f4}}img{{max-width:900px}}</style>
</head><body><h1>msbench report</h1><h2>Machines</h2><ul>{machines}</ul>
<h2>Summary</h2><table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{rows}</table>
<h2>Charts</h2>{figures}</body></html>
"""
    (folder / "index.html").write_text(page)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="msbench_report", description=__doc__)
    ap.add_argument("results", nargs="+",
                    help="msbench results JSON and/or Google Benchmark JSON files (overlaid)")
    ap.add_argument("-o", "--out", default="out/report", help="folder for charts and index.html")
    args = ap.parse_args(argv)
    try:
        loaded = [load_any(p) for p in args.results]
    except ResultsError as e:
        print(f"msbench_report: {e}", file=sys.stderr)
        return 2
    docs = [d for d in loaded if d["_kind"] == "results"]
    benches = [d for d in loaded if d["_kind"] == "benchmark"]
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
