"""The charts, one function each. Every function takes loaded documents and a folder and
returns the file names it wrote (PNG and SVG); CAPTIONS says under each what it shows and
how to read it. Runs are grouped by their full configuration (runs.config_key):
repetitions of one configuration become one point (the median) with its min-max spread,
or one curve (their histograms added) with the spread at each marked percentile."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator  # noqa: E402

from . import runs as R  # noqa: E402

# Percentiles shown on the HDR-style x axis: 1/(1-p) on a log scale.
PERCENTILES = [50, 90, 99, 99.9, 99.99, 99.999]

CAPTIONS = {
    "socket_action_percentiles":
        "Latency of one socket_action() (perform() for the perform backend) by percentile, one "
        "curve per configuration over the measured phase. Read a percentile off the x axis: the "
        "curve's height there is exactly the value the results file reports (the middle of its "
        "histogram bucket). Repetitions of a configuration are added into one curve; the bars at "
        "the marked percentiles span the repetitions' own values.",
    "request_percentiles":
        "Request latency by percentile for sustained-load runs, one curve per configuration. In "
        "the open model it counts from when each request was due (coordinated omission "
        "corrected, as wrk2 does), in the closed model from when it was sent. Bars: the spread "
        "over repetitions.",
    "latency_vs_connections":
        "p50 and p99 per call against connections per engine process, one line per "
        "configuration. Each point is the median over repetitions, its bar the min-max. A flat "
        "line is O(1) per call; a rising one grows with connections.",
    "engines_vs_connections":
        "msbench against libcurl and the bare-recv floor on the same backend: p50 and p99 per "
        "event (median over repetitions, bars min-max), and msbench's p50 divided by the "
        "floor's of the same pair (1.0 = no cost above the kernel; the dashed line is the 1.10 "
        "target).",
    "perform_vs_socket_action":
        "The legacy perform() against socket_action() as connections grow, one line per "
        "configuration: perform() visits every transfer (O(n)), socket_action() only the "
        "ready socket's (O(1)). Points are medians over repetitions, bars min-max.",
    "sockindex_occupancy":
        "How many buckets of the socket index hold 0, 1, 2... sockets (chain length) at the end "
        "of the measured phase, one bar series per configuration (first repetition). Long "
        "chains mean more entries compared per lookup.",
    "time_series":
        "Each run second by second, aligned on the start of its measured phase (x = 0). Shading: "
        "ramp-up and warm-up before, the measured phase, teardown after; samples outside the "
        "measured phase are drawn faint. Rates are per second of each sample's own length.",
    "status_classes":
        "Responses by HTTP status class for sustained-load runs (whole run), one bar per "
        "configuration: the share of each class, with the count of responses on top.",
    "timer_structures":
        "Timer structures from bench_timers: time per re-arm of one transfer's deadline, "
        "access steps per op and splay rotations per op, against the number of queued timers.",
    "sockindex_lookup":
        "Socket index variants from bench_sockindex: ns per lookup of a live fd and entries "
        "compared per lookup, against the number of live fds.",
}

_COLORS = plt.get_cmap("tab10").colors
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_LINES = ["-", "--", ":", "-."]


def style(i):
    """Colour, marker and line style of the i-th line: distinct for 320 lines (10 colours x 8
    markers x 4 dash patterns), not just the first 10."""
    return {"color": _COLORS[i % 10], "marker": _MARKERS[(i // 10) % 8],
            "linestyle": _LINES[(i // 80) % 4]}


def _legend(ax, title=None):
    """Outside the axes, on the right: it never covers the data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                  title=title, title_fontsize=7)


def _figure_legend(fig, axes):
    """One legend for several axes, right of the last: the labels of all, each once."""
    seen = {}
    for ax in axes:
        for handle, lbl in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lbl, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="upper left", bbox_to_anchor=(1.0, 0.95),
                   fontsize=7, frameon=False)


def _save(fig, folder, name):
    out = []
    for ext in ("png", "svg"):
        fig.savefig(folder / f"{name}.{ext}", dpi=110, bbox_inches="tight")
        out.append(f"{name}.{ext}")
    plt.close(fig)
    return out


def _common(keys):
    """(fields shared by every key, a title suffix naming them)."""
    shared = R.shared_fields(keys)
    if not keys:
        return shared, ""
    first = dict(keys[0])
    said = [R.label(((k, first[k]),)) for k in ("engine", "backend", "sockindex", "timers", "target",
                                               "model", "connections", "source") if k in shared]
    said = [s for s in said if s != "all runs"]
    return shared, (" — " + ", ".join(said)) if said else ""


X_RIGHT = 1.5 / (1.0 - PERCENTILES[-1] / 100.0)


def _hdr_axis(ax):
    ticks = [1.0 / (1.0 - p / 100.0) for p in PERCENTILES]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{p}%" for p in PERCENTILES]))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.set_xlim(1.0, X_RIGHT)
    ax.set_xlabel("percentile")
    ax.grid(True, which="major", alpha=0.3)


def _percentiles(docs, folder, name, hist_of, keep, ylabel, title):
    groups = R.group(docs, R.config_key, lambda run: keep(run) and hist_of(run)["count"] > 0)
    if not groups:
        return []
    shared, said = _common(list(groups))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for i, (key, members) in enumerate(groups.items()):
        hists = [hist_of(run) for _, run in members]
        xs, ys = R.quantile_curve(R.pooled(hists))
        xs = [min(x, X_RIGHT) for x in xs]  # the top bucket holds up to q = 1: the axis' end
        st = style(i)
        reps = f" (×{len(members)}, n={sum(h['count'] for h in hists):,})" if len(members) > 1 \
            else f" (n={hists[0]['count']:,})"
        ax.plot(xs, ys, drawstyle="steps-pre", color=st["color"], linestyle=st["linestyle"],
                label=R.label(key, shared) + reps)
        if len(members) > 1:
            for p in PERCENTILES:
                values = [R.quantile_ns(h, p / 100.0) / 1000.0 for h in hists]
                x = 1.0 / (1.0 - p / 100.0)
                ax.errorbar([x], [R.median(values)], yerr=[[R.median(values) - min(values)],
                                                            [max(values) - R.median(values)]],
                            color=st["color"], marker=st["marker"], markersize=3, capsize=2)
    _hdr_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title + said)
    _legend(ax, "n = samples")
    return _save(fig, folder, name)


def percentile_distribution(docs, folder):
    """Per-call latency by percentile (HDR histogram style), one curve per configuration."""
    return _percentiles(docs, folder, "socket_action_percentiles", lambda run: R.per_call(run)[0],
                        lambda run: True, "µs per call",
                        "Latency per call (socket_action(), or perform() for the perform backend)")


def request_percentiles(docs, folder):
    """Request latency by percentile for sustained-load runs."""
    return _percentiles(docs, folder, "request_percentiles", lambda run: run["request_us"],
                        lambda run: R.is_load(run) and "request_us" in run, "µs per request",
                        "Request latency")


def _by_connections(members, value):
    """{connections per engine: (median, min, max)} of value(run) over repetitions."""
    at = {}
    for _, run in members:
        v = value(run)
        if v is not None:
            at.setdefault(R.per_engine_connections(run), []).append(v)
    return {x: R.spread(vs) for x, vs in sorted(at.items())}


def _spread_line(ax, points, st, lbl):
    xs = list(points)
    med = [points[x][0] for x in xs]
    lo = [points[x][0] - points[x][1] for x in xs]
    hi = [points[x][2] - points[x][0] for x in xs]
    ax.errorbar(xs, med, yerr=[lo, hi], capsize=3, label=lbl, **st)


def _p(q):
    def value(run):
        h = R.per_call(run)[0]
        return R.quantile_ns(h, q) / 1000.0 if h["count"] else None
    return value


def latency_vs_connections(docs, folder):
    """p50 and p99 per call against connections per engine, one line per configuration."""
    groups = R.group(docs, lambda d, r: R.config_key(d, r, with_connections=False))
    lines = {k: (_by_connections(m, _p(0.5)), _by_connections(m, _p(0.99))) for k, m in groups.items()}
    lines = {k: v for k, v in lines.items() if len(v[0]) > 1}
    if not lines:
        return []
    shared, said = _common(list(lines))
    fig, (a50, a99) = plt.subplots(1, 2, figsize=(13, 4.8), sharex=True)
    for i, (key, (p50, p99)) in enumerate(lines.items()):
        _spread_line(a50, p50, style(i), R.label(key, shared))
        _spread_line(a99, p99, style(i), R.label(key, shared))
    for ax, q in ((a50, "p50"), (a99, "p99")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("connections per engine process")
        ax.set_ylabel(f"{q} µs per call")
        ax.set_title(f"{q} per call vs connections{said}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    _legend(a99)
    return _save(fig, folder, "latency_vs_connections")


ENGINE_STYLE = {"msbench": 0, "libcurl": 1, "floor": 7}


def engines_vs_connections(docs, folder):
    """msbench vs libcurl vs the bare-recv floor: p50 and p99 per event against connections
    per engine (median over repetitions, min-max bars), and msbench's pair-by-pair ratio."""
    compare_docs = [d for d in docs if len({r["config"].get("engine", "msbench") for r in d["runs"]}) > 1]
    if not compare_docs:
        return []
    groups = R.group(compare_docs, lambda d, r: (r["config"].get("engine", "msbench"), r["config"]["backend"]),
                     lambda run: run["socket_action_us"]["socket"]["count"] > 0)
    if len({k[0] for k in groups}) < 2:
        return []
    fig, (a50, a99, ar) = plt.subplots(1, 3, figsize=(16, 4.8))
    for key, members in groups.items():
        st = style(ENGINE_STYLE.get(key[0], 3))
        lbl = "/".join(key)
        _spread_line(a50, _by_connections(members, _p(0.5)), st, lbl)
        _spread_line(a99, _by_connections(members, _p(0.99)), st, lbl)
        ratio = _by_connections(members, lambda run: run.get("ratio_to_floor", {}).get("p50"))
        if ratio and key[0] != "floor":
            _spread_line(ar, ratio, st, f"{lbl} / floor")
    ar.axhline(1.10, color="tab:red", linestyle="--", linewidth=1, label="target 1.10")
    ar.axhline(1.0, color="tab:gray", linewidth=0.8)
    for ax, title, ylabel in ((a50, "p50 per event", "p50 µs"), (a99, "p99 per event", "p99 µs"),
                              (ar, "p50 ratio to the floor (pair by pair)", "ratio")):
        ax.set_xscale("log")
        ax.set_xlabel("connections per engine process")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    _figure_legend(fig, (a50, ar))
    return _save(fig, folder, "engines_vs_connections")


def perform_vs_socket_action(docs, folder):
    """The O(n) vs O(1) picture: perform() against socket_action, one line per configuration."""
    groups = R.group(docs, lambda d, r: R.config_key(d, r, with_connections=False),
                     lambda run: R.per_call(run)[0]["count"] > 0
                     and run["config"].get("engine", "msbench") == "msbench")
    kinds = {k: R.per_call(m[0][1])[1] for k, m in groups.items()}
    if len(set(kinds.values())) < 2:
        return []
    shared, said = _common(list(groups))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for i, (key, members) in enumerate(groups.items()):
        points = _by_connections(members, _p(0.5))
        kind = "perform(): every transfer, O(n)" if kinds[key] == "perform()" else \
            "socket_action(): the ready socket, O(1)"
        _spread_line(ax, points, style(i), f"{kind} — {R.label(key, shared)}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("connections per engine process")
    ax.set_ylabel("p50 µs per call")
    ax.set_title("perform() vs socket_action()" + said)
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)
    return _save(fig, folder, "perform_vs_socket_action")


def bucket_occupancy(docs, folder):
    """How many buckets of the socket index hold k sockets, per configuration."""
    groups = R.group(docs, R.config_key, lambda run: bool(run["sockindex"].get("occupancy"))
                     and run["config"].get("engine", "msbench") == "msbench")
    if not groups:
        return []
    shared, said = _common(list(groups))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / len(groups)
    for i, (key, members) in enumerate(groups.items()):
        occ = members[0][1]["sockindex"]["occupancy"]
        ax.bar([k + i * width for k in range(len(occ))], occ, width=width, color=style(i)["color"],
               label=R.label(key, shared))
    ax.set_yscale("symlog")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("sockets in the bucket (chain length)")
    ax.set_ylabel("buckets")
    ax.set_title("Socket index bucket occupancy" + said)
    _legend(ax)
    return _save(fig, folder, "sockindex_occupancy")


PHASE_SHADE = {"ramp-up": "#f2e6d9", "warm-up": "#fdf6e3", "measuring": "#e6f2e6", "teardown": "#eeeeee"}


def _phase_spans(series):
    """[(phase, start, end)] in seconds since the run began, from samples that record theirs."""
    spans = []
    for x in series:
        start, end = x["t_s"] - x.get("dt_s", 1.0), x["t_s"]
        if spans and spans[-1][0] == x.get("phase"):
            spans[-1] = (spans[-1][0], spans[-1][1], end)
        else:
            spans.append((x.get("phase"), start, end))
    return spans


def time_series(docs, folder):
    """Each run second by second, aligned on its measured phase, with the phases shaded."""
    members = [(doc, run) for doc in docs for run in doc["runs"] if run.get("series")]
    if not members:
        return []
    load = any(R.is_load(run) for _, run in members)
    panels = ["open", "calls", "p99"] + (["requests", "request_p99"] if load else [])
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.2 * len(panels) + 1), sharex=True)
    keys = [R.config_key(d, r) for d, r in members]
    shared, said = _common(keys)
    shaded = False
    for i, ((doc, run), key) in enumerate(zip(members, keys)):
        s = run["series"]
        spans = _phase_spans(s)
        origin = next((a for p, a, _ in spans if p == "measuring"), 0.0)
        if not shaded and any(p for p, _, _ in spans):
            for ax in axes:
                for phase, a, b in spans:
                    ax.axvspan(a - origin, b - origin, color=PHASE_SHADE.get(phase, "white"), zorder=0)
            for phase, a, b in spans:
                axes[0].text((a + b) / 2 - origin, 1.02, phase, transform=axes[0].get_xaxis_transform(),
                             ha="center", fontsize=7)
            shaded = True
        st = style(i)
        rep = run["config"].get("repetition", 0)
        lbl = R.label(key, shared) + (f" rep {rep + 1}" if rep else "")
        t = [x["t_s"] - origin for x in s]
        dt = [x.get("dt_s", 1.0) or 1.0 for x in s]
        values = {"open": [x["open"] for x in s],
                  "calls": [x["calls"] / d for x, d in zip(s, dt)],
                  "p99": [x["p99_us"] if x["calls"] else None for x in s],
                  "requests": [x.get("requests", 0) / d for x, d in zip(s, dt)],
                  "request_p99": [x.get("request_p99_us") if x.get("requests") else None for x in s]}
        measuring = [x.get("phase", "measuring") == "measuring" for x in s]
        for ax, panel in zip(axes, panels):
            ys = values[panel]
            ax.plot(t, [y if m else None for y, m in zip(ys, measuring)], color=st["color"],
                    linestyle=st["linestyle"], marker=st["marker"], markersize=3, label=lbl)
            ax.plot(t, ys, color=st["color"], alpha=0.3, linewidth=1)
    ylabels = {"open": "connections open", "calls": "calls per second", "p99": "p99 µs per call",
               "requests": "requests per second", "request_p99": "request p99 µs"}
    for ax, panel in zip(axes, panels):
        ax.set_ylabel(ylabels[panel], fontsize=8)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("seconds since the measured phase began")
    axes[0].set_title("Time series (1 s samples)" + said, pad=14)
    _legend(axes[0])
    return _save(fig, folder, "time_series")


def status_classes(docs, folder):
    """Responses by status class for load runs, one bar per configuration."""
    groups = R.group(docs, R.config_key, lambda run: R.is_load(run) and run["requests"].get("completed"))
    if not groups:
        return []
    shared, said = _common(list(groups))
    classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    colors = {"1xx": "tab:gray", "2xx": "tab:green", "3xx": "tab:blue", "4xx": "tab:orange",
              "5xx": "tab:red"}
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups) + 3), 4.8))
    names = []
    for i, (key, members) in enumerate(groups.items()):
        counts = {c: sum(run["requests"].get("by_class", {}).get(c, 0) for _, run in members) for c in classes}
        total = sum(counts.values()) or 1
        bottom = 0.0
        for c in classes:
            share = counts[c] / total
            ax.bar(i, share, bottom=bottom, color=colors[c], label=c if i == 0 else None)
            bottom += share
        ax.text(i, 1.01, f"{total:,}", ha="center", fontsize=7)
        names.append(R.label(key, shared))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=7)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share of responses")
    ax.set_title("HTTP status classes" + said)
    _legend(ax)
    return _save(fig, folder, "status_classes")


def _bench_rows(bench_docs, prefix):
    """(name parts dict, row) for Google Benchmark rows whose name starts with prefix. A name
    is BM/variant/key:value...; older files numbered the variant (kind:0, variant:3)."""
    for doc in bench_docs:
        for row in doc["benchmarks"]:
            if row.get("run_type", "iteration") != "iteration" or not row["name"].startswith(prefix):
                continue
            parts = {}
            for p in row["name"].split("/")[1:]:
                if ":" in p:
                    k, v = p.split(":", 1)
                    parts[k] = v
                elif p != "manual_time":
                    parts["variant"] = p
            yield parts, row


OLD_NUMBERS = {"kind": {"0": "splay", "1": "heap", "2": "wheel"},
               "variant": {"0": "chained-7", "1": "chained-97", "2": "chained-911", "3": "resizable",
                           "4": "direct"}}


def _variant(parts):
    for key, names in OLD_NUMBERS.items():
        if key in parts:
            return names.get(parts[key], parts[key])
    return parts.get("variant", "?")


def _bench_lines(ax, rows, value):
    lines = {}
    for parts, row in rows:
        lines.setdefault(_variant(parts), []).append((int(parts["n"]), value(row)))
    for i, (lbl, pts) in enumerate(sorted(lines.items())):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], label=lbl, **style(i))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    return bool(lines)


def timer_structures(bench_docs, folder):
    """Timer structures from bench_timers: ns per re-arm, and steps per op, against N."""
    rows = list(_bench_rows(bench_docs, "BM_Rearm/"))
    if not rows:
        return []
    fig, (at, asteps, arot) = plt.subplots(1, 3, figsize=(17, 4.8))
    _bench_lines(at, rows, lambda r: r["real_time"])
    at.set_xlabel("timers queued")
    at.set_ylabel(f'time per re-arm ({rows[0][1].get("time_unit", "ns")})')
    at.set_title("re-arming one transfer's deadline", fontsize=10)
    _bench_lines(asteps, rows, lambda r: max(r.get("steps_per_op", 0), 1e-3))
    asteps.set_xlabel("timers queued")
    asteps.set_ylabel("steps per op (splay: nodes walked; heap: moves; wheel: cascade moves)", fontsize=8)
    asteps.set_title("access depth per op", fontsize=10)
    splay_only = [(p, r) for p, r in rows if _variant(p) == "splay"]
    _bench_lines(arot, splay_only, lambda r: max(r.get("rotations_per_op", 0), 1e-3))
    arot.set_xlabel("timers queued")
    arot.set_ylabel("rotations per op")
    arot.set_title("splay rotations per op", fontsize=10)
    _legend(arot)
    return _save(fig, folder, "timer_structures")


def sockindex_lookup(bench_docs, folder):
    """Socket index lookups from bench_sockindex: ns and probes per hit against live fds."""
    rows = list(_bench_rows(bench_docs, "BM_LookupHit/"))
    if not rows:
        return []
    fig, (at, ap) = plt.subplots(1, 2, figsize=(13, 4.8))
    _bench_lines(at, rows, lambda r: r["real_time"])
    at.set_xlabel("live fds")
    at.set_ylabel("ns per lookup (hit)")
    at.set_title("socket index lookup", fontsize=10)
    _bench_lines(ap, rows, lambda r: max(r.get("probes", 0), 1e-3))
    ap.set_xlabel("live fds")
    ap.set_ylabel("entries compared per lookup")
    ap.set_title("probes per lookup", fontsize=10)
    _legend(ap)
    return _save(fig, folder, "sockindex_lookup")


ALL = [percentile_distribution, request_percentiles, latency_vs_connections, engines_vs_connections,
       perform_vs_socket_action, bucket_occupancy, time_series, status_classes]
BENCH = [timer_structures, sockindex_lookup]
