"""index.html: machines and provenance, the per-run table, the compare ratios, the charts
with their captions. Static: no script, so it renders anywhere."""

import html
from pathlib import Path

from . import table
from .charts import CAPTIONS

STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}
td,th{padding:2px 8px;text-align:right;white-space:nowrap}th{background:#e8e8e8}
table{border-collapse:collapse;font-size:13px;margin-bottom:1em}tr:nth-child(even){background:#f4f4f4}
figure{margin:1.5em 0}img{max-width:100%}figcaption{max-width:900px;color:#333;font-size:14px}
.wide{overflow-x:auto}"""


def _e(v):
    return html.escape(str(v))


def _table(head, body):
    return ("<div class=\"wide\"><table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in body)
            + "</table></div>")


def _provenance(doc):
    m, inv = doc["machine"], doc.get("invocation", {})
    facts = [f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores", m.get("kernel", "?"),
             f"host {m['host']}" if m.get("host") else None,
             f"governor {m['cpu_governor']}" if m.get("cpu_governor") else None,
             f"msbench {inv['msbench_version']}" if inv.get("msbench_version") else
             f"commit {m.get('git_commit', '?')}",
             "uncommitted changes" if inv.get("dirty_tree") else None,
             f"started {inv['started_at']}" if inv.get("started_at") else None,
             f"libcurl {inv['libcurl_version']}" if inv.get("libcurl_version") else None]
    line = f"<li><b>{_e(Path(doc['_path']).name)}</b>: " + ", ".join(_e(f) for f in facts if f)
    if inv.get("command_line"):
        line += f"<br><code>{_e(' '.join(inv['command_line']))}</code>"
    return line + "</li>"


def compare_rows(docs):
    """msbench's ratios to libcurl and to the floor, pair by pair (compare runs only)."""
    out = []
    for doc in docs:
        for run in doc["runs"]:
            for other in ("floor", "libcurl"):
                ratio = run.get(f"ratio_to_{other}")
                if not ratio:
                    continue
                c = run["config"]
                out.append([Path(doc["_path"]).name, c.get("engine", "msbench"), other, c["backend"],
                            c["connections"], c.get("pair", "–"),
                            *(table.fmt(ratio.get(k)) for k in ("p50", "p99", "cpu_per_event",
                                                                "rss_per_connection"))])
    return out


def write_index(docs, benches, images, folder):
    machines = "".join(_provenance(d) for d in docs)
    machines += "".join(
        f"<li><b>{_e(Path(b['_path']).name)}</b>: Google Benchmark, "
        f"{_e(b['context'].get('num_cpus', '?'))} cpus at {_e(b['context'].get('mhz_per_cpu', '?'))} MHz, "
        f"{_e(b['context'].get('date', ''))}</li>" for b in benches)
    summary = _table(table.headers(), [[table.fmt(v) for v in r] for r in table.rows(docs)]) if docs else ""
    compare = compare_rows(docs)
    compare_html = ""
    if compare:
        compare_html = ("<h2>Compare: ratios pair by pair</h2><p>Each engine's figure divided by the "
                        "reference's in the same pair (runs side by side in one run: A B A B). Below "
                        "1 is better than the reference.</p>" + _table(
                            ["file", "engine", "against", "backend", "connections", "pair", "p50",
                             "p99", "CPU/event", "RSS/conn"], compare))
    figures = "".join(
        f'<figure><img src="{_e(i)}" alt="{_e(i[:-4])}"><figcaption><b>{_e(i[:-4])}</b>: '
        f'{_e(CAPTIONS.get(i[:-4], ""))} (<a href="{_e(i[:-4])}.svg">SVG</a>)</figcaption></figure>'
        for i in images if i.endswith(".png"))
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>msbench report</title>
<style>{STYLE}</style></head><body><h1>msbench report</h1>
<h2>Where these results come from</h2><ul>{machines}</ul>
<h2>Runs</h2><p>One row per run. Per-call figures are socket_action() on a socket, or perform()
for the perform backend (column "call"), over the measured phase; "–" where a value does not
apply.</p>{summary}{compare_html}
<h2>Charts</h2>{figures}</body></html>
"""
    (folder / "index.html").write_text(page)
