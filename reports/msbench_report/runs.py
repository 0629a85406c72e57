"""What the charts, tables and diff share about runs: their full configuration (what makes
two runs comparable), labels, the per-call histogram, exact percentile curves, and spreads
over repetitions."""

import math
import statistics
from pathlib import Path

def config_key(doc, run, with_connections=True):
    """What identifies a configuration, beside the repetition (what is aggregated) and, when
    asked, connections (the x of most charts). The socket index and timers are msbench's
    own: the reference engines have none, so they are left out of theirs."""
    c = run["config"]
    engine = c.get("engine", "msbench")
    key = [("engine", engine), ("backend", c["backend"])]
    if engine == "msbench":
        idx = c["sockindex"] + (f'-{c["buckets"]}' if c["sockindex"] == "chained" else "")
        key += [("sockindex", idx), ("timers", c.get("timers", "splay"))]
    if engine == "libcurl" and c.get("libcurl"):
        key.append(("libcurl", run.get("engine_version") or c["libcurl"]))
    key += [("target", c.get("target", "builtin")), ("model", load_model(run))]
    if with_connections:
        key.append(("connections", c["connections"]))
    key.append(("source", source(doc)))
    return tuple(key)


def source(doc):
    """The file and commit a run came from: runs of different files never pool."""
    return f'{Path(doc["_path"]).name}@{doc["machine"].get("git_commit", "?")}'


def is_load(run):
    """A sustained-load run: its results carry requests per second."""
    return "per_s" in run.get("requests", {})


def load_model(run):
    """trickle (idle connections), closed (back-to-back requests) or open N/s."""
    rate = run["config"].get("rate", 0)
    if rate:
        return f"open {rate:g}/s"
    return "closed" if is_load(run) else "trickle"


def label(key, drop=()):
    """A legend label from a configuration key, leaving out what every line shares."""
    parts = []
    for name, value in key:
        if name in drop:
            continue
        if name == "connections":
            parts.append(f"{value} conns")
        elif name == "target" and value == "builtin":
            continue
        elif name == "model" and value == "trickle":
            continue
        else:
            parts.append(str(value))
    return " / ".join(parts) or "all runs"


def shared_fields(keys):
    """The key fields equal in every key: a chart says them once, in its title."""
    if not keys:
        return set()
    first = dict(keys[0])
    return {k for k, v in first.items() if all(dict(o).get(k) == v for o in keys)}


def group(docs, key_fn, keep=lambda run: True):
    """{key: [(doc, run), ...]} in first-seen order."""
    out = {}
    for doc in docs:
        for run in doc["runs"]:
            if keep(run):
                out.setdefault(key_fn(doc, run), []).append((doc, run))
    return out


def per_call(run):
    """The run's per-call histogram and its name: perform() for the perform backend."""
    if run["config"]["backend"] == "perform":
        return run["perform_us"], "perform()"
    return run["socket_action_us"]["socket"], "socket_action"


def cpu_s(run):
    """The client's CPU (user + system) over the measured phase, when recorded."""
    cpu = run.get("cpu")
    return cpu["user_s"] + cpu["sys_s"] if cpu else None


def cpu_per_call_us(run):
    calls = per_call(run)[0]["count"]
    return cpu_s(run) * 1e6 / calls if calls and cpu_s(run) is not None else None


def per_engine_connections(run):
    return run["config"]["connections"] / max(1, run.get("workers", 1))


def median(values):
    return statistics.median(values)


def spread(values):
    """(median, min, max) of repetitions."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


# ------------------------------------------------------------------ exact percentile curve

def bucket_width(low):
    """The width of the histogram bucket whose lowest value is `low` (msb::Histogram: values
    below 128 exact, then 128 sub-buckets per power of two)."""
    return 1 if low < 128 else 1 << (int(low).bit_length() - 8)


def bucket_value(low, lo_clamp, hi_clamp):
    """What msb::Histogram::quantile() reports for a bucket: its middle, within [min, max]."""
    mid = low + (bucket_width(low) - 1) // 2
    return min(max(mid, lo_clamp), hi_clamp)


def quantile_ns(h, q):
    """msb::Histogram::quantile(q) from a results file's histogram, exactly."""
    n = h["count"]
    if not n:
        return 0
    rank = min(max(math.ceil(q * n), 1), n)
    seen = 0
    for low, count in h["buckets_ns"]:
        seen += count
        if seen >= rank:
            return bucket_value(low, h["min_ns"], h["max_ns"])
    return h["max_ns"]


def pooled(histograms):
    """Histograms of repetitions added bucket by bucket (as merge does)."""
    buckets = {}
    for h in histograms:
        for low, n in h["buckets_ns"]:
            buckets[low] = buckets.get(low, 0) + n
    hs = [h for h in histograms if h["count"]]
    return {"count": sum(h["count"] for h in hs), "buckets_ns": sorted(buckets.items()),
            "min_ns": min((h["min_ns"] for h in hs), default=0),
            "max_ns": max((h["max_ns"] for h in hs), default=0)}


def quantile_curve(h):
    """(xs, ys) for a step drawn with drawstyle 'steps-pre': x = 1/(1-q) on the HDR axis, y in
    us. The value of bucket i holds for the quantiles whose rank falls in it, (seen before,
    seen through]: at x_i and left of it down to x_(i-1), exactly as quantile() reports."""
    n = h["count"]
    xs, ys, seen = [], [], 0
    for low, count in h["buckets_ns"]:
        value = bucket_value(low, h["min_ns"], h["max_ns"]) / 1000.0
        if not xs:
            xs.append(1.0)  # q = 0
            ys.append(value)
        seen += count
        q = seen / n
        xs.append(1.0 / (1.0 - q) if q < 1.0 else float("inf"))
        ys.append(value)
    return xs, ys


def curve_at(xs, ys, q):
    """The value a 'steps-pre' curve shows at quantile q (what a reader reads off the chart)."""
    x = 1.0 / (1.0 - q)
    for xi, yi in zip(xs, ys):
        if xi >= x * (1 - 1e-12):
            return yi
    return ys[-1]


def smallest_p(n, m, two_sided=True):
    """The smallest p-value an exact Mann-Whitney U test can give for n against m samples:
    below the significance level or no verdict is possible at all (3 against 3, two-sided,
    can never go below 0.1)."""
    return (2.0 if two_sided else 1.0) / math.comb(n + m, n)


def repetitions_needed(alpha, two_sided=True):
    """The fewest repetitions a side for which some p-value can fall below alpha."""
    return next(k for k in range(2, 100) if smallest_p(k, k, two_sided) < alpha)
