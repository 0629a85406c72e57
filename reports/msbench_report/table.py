"""The per-run table: one row per run with its configuration and figures, shared by the
HTML summary and the CSV export. A value that does not apply to a run is None (shown "–")."""

from pathlib import Path

from . import runs as R

COLUMNS = [
    # (header, unit, value of (doc, run))
    ("file", "", lambda d, r: Path(d["_path"]).name),
    ("engine", "", lambda d, r: r["config"].get("engine", "msbench")),
    ("backend", "", lambda d, r: r["config"]["backend"]),
    ("sockindex", "", lambda d, r: _own(r, r["config"]["sockindex"] + (
        f'-{r["config"]["buckets"]}' if r["config"]["sockindex"] == "chained" else ""))),
    ("timers", "", lambda d, r: _own(r, r["config"].get("timers", "splay"))),
    ("target", "", lambda d, r: r["config"].get("target", "builtin")),
    ("model", "", lambda d, r: R.load_model(r)),
    ("workers", "", lambda d, r: r.get("workers", 1)),
    ("repetition", "", lambda d, r: r["config"].get("repetition", 0) + 1),
    ("connections", "", lambda d, r: r["config"]["connections"]),
    ("open", "", lambda d, r: r.get("connections_open")),
    ("call", "", lambda d, r: R.per_call(r)[1]),
    ("calls", "", lambda d, r: R.per_call(r)[0]["count"]),
    ("calls/s", "", lambda d, r: R.per_call(r)[0]["count"] / r["phases"]["measured_s"]
        if R.per_call(r)[0]["count"] and r.get("phases", {}).get("measured_s") else None),
    ("p50", "µs", lambda d, r: _q(R.per_call(r)[0], "p50_us")),
    ("p99", "µs", lambda d, r: _q(R.per_call(r)[0], "p99_us")),
    ("p99.9", "µs", lambda d, r: _q(R.per_call(r)[0], "p999_us")),
    ("CPU", "s", lambda d, r: R.cpu_s(r)),
    ("CPU/call", "µs", lambda d, r: R.cpu_per_call_us(r)),
    ("RSS/conn", "B", lambda d, r: r.get("rss", {}).get("per_connection_bytes")),
    ("requests/s", "", lambda d, r: r["requests"]["per_s"] if R.is_load(r) else None),
    ("request p50", "µs", lambda d, r: _q(r.get("request_us"), "p50_us") if R.is_load(r) else None),
    ("request p99", "µs", lambda d, r: _q(r.get("request_us"), "p99_us") if R.is_load(r) else None),
    ("5xx", "", lambda d, r: r["requests"].get("by_class", {}).get("5xx", 0) if R.is_load(r) else None),
    ("accounted", "", lambda d, r: "yes" if r["accounting"]["holds"] else "NO"),
    ("partial", "", lambda d, r: "partial" if r.get("partial") else ""),
]


def _own(run, value):
    """msbench's own variants: the reference engines have none."""
    return value if run["config"].get("engine", "msbench") == "msbench" else None


def _q(h, key):
    return h[key] if h and h.get("count") else None


def headers():
    return [f"{h} ({u})" if u else h for h, u, _ in COLUMNS]


def rows(docs):
    for doc in docs:
        for run in doc["runs"]:
            yield [value(doc, run) for _, _, value in COLUMNS]


def fmt(v):
    """A cell for reading: '–' where nothing applies, figures to a sensible precision."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def render(head, body, markdown=False):
    """A table of strings as aligned text for a terminal, or as Markdown for CI pages."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(str(x[i]).ljust(widths[i]) for i in range(len(head))).rstrip()
                     for x in [head, *body]) + "\n"
