"""The charts, one function each. Every function takes loaded documents and a folder and
returns the file names it wrote (PNG and SVG)."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FixedFormatter  # noqa: E402

# Percentiles shown on the HDR-style x axis: 1/(1-p) on a log scale.
PERCENTILES = [50, 90, 99, 99.9, 99.99, 99.999]


def _label(doc, run):
    c = run["config"]
    return f'{c["backend"]}/{c["sockindex"]} n={c["connections"]} ({doc["machine"]["git_commit"]})'


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


ALL = [percentile_distribution, bucket_occupancy]
