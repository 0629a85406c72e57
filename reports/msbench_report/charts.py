"""The charts, one function each. Every function takes loaded documents and a folder and
returns the file names it wrote (PNG and SVG)."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FixedFormatter  # noqa: E402

# Percentiles shown on the HDR-style x axis: 1/(1-p) on a log scale.
PERCENTILES = [50, 90, 99, 99.9, 99.99, 99.999]


def _engine(run):
    """msbench, or the reference engine that drove the run (libcurl, floor)."""
    return run["config"].get("engine", "msbench")


def _label(doc, run):
    c = run["config"]
    what = c["sockindex"] if _engine(run) == "msbench" else _engine(run)
    return f'{c["backend"]}/{what} n={c["connections"]} ({doc["machine"]["git_commit"]})'


def _save(fig, folder, name):
    out = []
    for ext in ("png", "svg"):
        fig.savefig(folder / f"{name}.{ext}", dpi=110, bbox_inches="tight")
        out.append(f"{name}.{ext}")
    plt.close(fig)
    return out


def _quantile_curve(buckets_ns):
    """(1/(1-q), value_us) points from histogram buckets, one per bucket."""
    total = sum(n for _, n in buckets_ns)
    xs, ys, seen = [], [], 0
    for low, n in buckets_ns:
        seen += n
        q = seen / total
        if q >= 1.0:
            q = 1.0 - 0.5 / total  # the top bucket: just past the last rank
        xs.append(1.0 / (1.0 - q))
        ys.append(low / 1000.0)
    return xs, ys


def percentile_distribution(docs, folder):
    """socket_action latency by percentile (HDR histogram style), one line per run."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    drawn = 0
    for doc in docs:
        for run in doc["runs"]:
            h = run["socket_action_us"]["socket"]
            if not h["count"]:
                continue
            xs, ys = _quantile_curve(h["buckets_ns"])
            ax.step(xs, ys, where="post", label=_label(doc, run))
            drawn += 1
    if not drawn:
        plt.close(fig)
        return []
    ticks = [1.0 / (1.0 - p / 100.0) for p in PERCENTILES]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{p}%" for p in PERCENTILES]))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.set_xlim(1.5, ticks[-1] * 1.5)
    ax.set_yscale("log")
    ax.set_xlabel("percentile")
    ax.set_ylabel("µs per socket_action (socket)")
    ax.set_title("socket_action latency distribution")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder, "socket_action_percentiles")


def bucket_occupancy(docs, folder):
    """How many buckets of the socket index hold k sockets, per run."""
    runs = [(doc, run) for doc in docs for run in doc["runs"] if run["sockindex"]["occupancy"]]
    if not runs:
        return []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(runs)
    for i, (doc, run) in enumerate(runs):
        occ = run["sockindex"]["occupancy"]
        ax.bar([k + i * width for k in range(len(occ))], occ, width=width, label=_label(doc, run))
    ax.set_yscale("symlog")
    ax.set_xlabel("sockets in the bucket (chain length)")
    ax.set_ylabel("buckets")
    ax.set_title("socket index bucket occupancy")
    ax.legend(fontsize=8)
    return _save(fig, folder, "sockindex_occupancy")


def _group_label(doc, run):
    c = run["config"]
    if _engine(run) != "msbench":
        return f'{c["backend"]}/{_engine(run)}'
    idx = c["sockindex"] + (f'-{c["buckets"]}' if c["sockindex"] == "chained" else "")
    return f'{c["backend"]}/{idx}/{c.get("timers", "splay")}'


def _per_call(run):
    """The run's per-call histogram summary: perform() for the perform backend."""
    if run["config"]["backend"] == "perform":
        return run["perform_us"], "perform()"
    return run["socket_action_us"]["socket"], "socket_action"


def latency_vs_connections(docs, folder):
    """p50 and p99 per call against connections per engine, one line per configuration."""
    groups = {}
    for doc in docs:
        for run in doc["runs"]:
            h, _ = _per_call(run)
            if not h["count"]:
                continue
            per_engine = run["config"]["connections"] / max(1, run.get("workers", 1))
            key = (_group_label(doc, run), doc["machine"]["git_commit"])
            groups.setdefault(key, []).append((per_engine, h["p50_us"], h["p99_us"]))
    if not any(len(v) > 1 for v in groups.values()):
        return []
    fig, (a50, a99) = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    for (label, commit), pts in sorted(groups.items()):
        pts.sort()
        xs = [p[0] for p in pts]
        name = label if len({k[1] for k in groups}) == 1 else f"{label} ({commit})"
        a50.plot(xs, [p[1] for p in pts], marker="o", label=name)
        a99.plot(xs, [p[2] for p in pts], marker="o", label=name)
    for ax, q in ((a50, "p50"), (a99, "p99")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("connections per engine")
        ax.set_ylabel(f"{q} µs per call")
        ax.set_title(f"{q} per call vs connections")
        ax.grid(True, which="both", alpha=0.3)
    a99.legend(fontsize=7)
    return _save(fig, folder, "latency_vs_connections")


def _median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


ENGINE_STYLE = {"msbench": ("tab:blue", "o"), "libcurl": ("tab:orange", "s"),
                "floor": ("tab:gray", "v")}


def engines_vs_connections(docs, folder):
    """msbench vs libcurl vs the bare-recv floor: p50 and p99 per event against connections
    per engine (median over repetitions), and msbench's pair-by-pair p50 ratio to the floor."""
    per = {}     # engine -> connections per engine -> [(p50, p99)]
    ratio = {}   # engine -> connections per engine -> [p50 / floor's p50, same pair]
    for doc in docs:
        runs = doc["runs"]
        if len({_engine(r) for r in runs}) < 2:
            continue
        for run in runs:
            h = run["socket_action_us"]["socket"]
            if not h["count"]:
                continue
            n = run["config"]["connections"] / max(1, run.get("workers", 1))
            per.setdefault(_engine(run), {}).setdefault(n, []).append((h["p50_us"], h["p99_us"]))
            if "ratio_to_floor" in run:
                ratio.setdefault(_engine(run), {}).setdefault(n, []).append(run["ratio_to_floor"]["p50"])
    if len(per) < 2:
        return []
    fig, (a50, a99, ar) = plt.subplots(1, 3, figsize=(15, 4.5))
    for engine, by_n in sorted(per.items()):
        color, marker = ENGINE_STYLE.get(engine, (None, "o"))
        ns = sorted(by_n)
        a50.plot(ns, [_median([p[0] for p in by_n[n]]) for n in ns], marker=marker, color=color, label=engine)
        a99.plot(ns, [_median([p[1] for p in by_n[n]]) for n in ns], marker=marker, color=color, label=engine)
    for engine, by_n in sorted(ratio.items()):
        color, marker = ENGINE_STYLE.get(engine, (None, "o"))
        ns = sorted(by_n)
        ar.plot(ns, [_median(by_n[n]) for n in ns], marker=marker, color=color, label=f"{engine} / floor")
    ar.axhline(1.10, color="tab:red", linestyle="--", linewidth=1, label="target 1.10")
    ar.axhline(1.0, color="tab:gray", linewidth=0.8)
    for ax, title, ylabel in ((a50, "p50 per event", "p50 µs"), (a99, "p99 per event", "p99 µs"),
                              (ar, "p50 ratio to the floor (pair by pair)", "ratio")):
        ax.set_xscale("log")
        ax.set_xlabel("connections per engine")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, folder, "engines_vs_connections")


def perform_vs_socket_action(docs, folder):
    """The O(n) vs O(1) picture: perform() against socket_action as connections grow."""
    perform, socket = [], []
    for doc in docs:
        for run in doc["runs"]:
            h, kind = _per_call(run)
            if h["count"]:
                (perform if kind == "perform()" else socket).append(
                    (run["config"]["connections"], h["p50_us"]))
    if not perform or not socket:
        return []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for pts, label in ((perform, "perform(): every transfer, O(n)"),
                       (socket, "socket_action(): the ready socket, O(1)")):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("connections")
    ax.set_ylabel("p50 µs per call")
    ax.set_title("perform() vs socket_action()")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder, "perform_vs_socket_action")


def time_series(docs, folder):
    """Each run second by second: connections open, calls/s, p99."""
    runs = [(doc, run) for doc in docs for run in doc["runs"] if run.get("series")]
    if not runs:
        return []
    fig, (ao, ac, ap) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    for doc, run in runs[:12]:
        s = run["series"]
        t = [x["t_s"] for x in s]
        label = _label(doc, run)
        ao.plot(t, [x["open"] for x in s], label=label)
        ac.plot(t, [x["calls"] for x in s], label=label)
        ap.plot(t, [x["p99_us"] for x in s], label=label)
    ao.set_ylabel("connections open")
    ac.set_ylabel("calls per second")
    ap.set_ylabel("p99 µs (socket calls)")
    ap.set_xlabel("seconds since the run began")
    ao.set_title("time series (1 s)" + (" — first 12 runs" if len(runs) > 12 else ""))
    for ax in (ao, ac, ap):
        ax.grid(True, alpha=0.3)
    ao.legend(fontsize=7)
    return _save(fig, folder, "time_series")


def _bench_rows(bench_docs, prefix):
    """(name parts dict, row) for Google Benchmark rows whose name starts with prefix."""
    for doc in bench_docs:
        for row in doc["benchmarks"]:
            if row.get("run_type", "iteration") != "iteration" or not row["name"].startswith(prefix):
                continue
            parts = dict(p.split(":", 1) for p in row["name"].split("/")[1:] if ":" in p)
            yield parts, row


TIMER_KINDS = {"0": "splay", "1": "heap", "2": "wheel"}
SOCKINDEX_VARIANTS = {"0": "chained-7", "1": "chained-97", "2": "chained-911", "3": "resizable",
                      "4": "direct"}


def _bench_lines(ax, rows, series_key, names, value):
    lines = {}
    for parts, row in rows:
        lines.setdefault(names.get(parts.get(series_key), parts.get(series_key)), []).append(
            (int(parts["n"]), value(row)))
    for label, pts in sorted(lines.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return bool(lines)


def timer_structures(bench_docs, folder):
    """Timer structures from bench_timers: ns per re-arm, and steps per op, against N."""
    rows = list(_bench_rows(bench_docs, "BM_Rearm/"))
    if not rows:
        return []
    fig, (at, asteps, arot) = plt.subplots(1, 3, figsize=(16, 4.5))
    _bench_lines(at, rows, "kind", TIMER_KINDS, lambda r: r["real_time"])
    at.set_xlabel("timers queued")
    at.set_ylabel(f'time per re-arm ({rows[0][1].get("time_unit", "ns")})')
    at.set_title("re-arming one transfer's deadline")
    _bench_lines(asteps, rows, "kind", TIMER_KINDS, lambda r: max(r.get("steps_per_op", 0), 1e-3))
    asteps.set_xlabel("timers queued")
    asteps.set_ylabel("steps (splay: nodes walked; heap: moves; wheel: cascade moves) per op")
    asteps.set_title("access depth per op")
    splay_only = [(p, r) for p, r in rows if TIMER_KINDS.get(p.get("kind")) == "splay"]
    _bench_lines(arot, splay_only, "kind", TIMER_KINDS, lambda r: max(r.get("rotations_per_op", 0), 1e-3))
    arot.set_xlabel("timers queued")
    arot.set_ylabel("rotations per op")
    arot.set_title("splay rotations per op")
    return _save(fig, folder, "timer_structures")


def sockindex_lookup(bench_docs, folder):
    """Socket index lookups from bench_sockindex: ns and probes per hit against live fds."""
    rows = list(_bench_rows(bench_docs, "BM_LookupHit/"))
    if not rows:
        return []
    fig, (at, ap) = plt.subplots(1, 2, figsize=(12, 4.5))
    _bench_lines(at, rows, "variant", SOCKINDEX_VARIANTS, lambda r: r["real_time"])
    at.set_xlabel("live fds")
    at.set_ylabel("ns per lookup (hit)")
    at.set_title("socket index lookup")
    _bench_lines(ap, rows, "variant", SOCKINDEX_VARIANTS, lambda r: r.get("probes", 0))
    ap.set_xlabel("live fds")
    ap.set_ylabel("entries compared per lookup")
    ap.set_title("probes per lookup")
    return _save(fig, folder, "sockindex_lookup")


ALL = [percentile_distribution, latency_vs_connections, engines_vs_connections, perform_vs_socket_action,
       bucket_occupancy, time_series]
BENCH = [timer_structures, sockindex_lookup]
