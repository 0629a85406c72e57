"""python -m msbench_report diff BASE.json NEW.json [--markdown FILE]

Per configuration present in both files and per metric: the median over repetitions in
each, the change, and a two-sided Mann-Whitney U p-value over the repetitions (Google
Benchmark's compare.py does the same for benchmarks). Where the repetitions are too few for
any p-value to reach --alpha (3 against 3 cannot go below 0.1), the rows say so and a warning
names how many are needed. Exit 0 with a table, 2 on unusable input (unreadable files,
nothing in common).
"""

import argparse
import statistics
import sys

from . import runs as R
from . import table
from .load import ResultsError, load_results

# (metric, unit, better direction, value of a run or None)
METRICS = [
    ("p50 per call", "µs", "lower", lambda r: R.per_call(r)[0]["p50_us"] if R.per_call(r)[0]["count"] else None),
    ("p99 per call", "µs", "lower", lambda r: R.per_call(r)[0]["p99_us"] if R.per_call(r)[0]["count"] else None),
    ("CPU per call", "µs", "lower", R.cpu_per_call_us),
    ("RSS per connection", "B", "lower", lambda r: r.get("rss", {}).get("per_connection_bytes") or None),
    ("requests/s", "1/s", "higher", lambda r: r["requests"]["per_s"] if R.is_load(r) else None),
    ("request p50", "µs", "lower", lambda r: r["request_us"]["p50_us"] if R.is_load(r) and r["request_us"]["count"] else None),
    ("request p99", "µs", "lower", lambda r: r["request_us"]["p99_us"] if R.is_load(r) and r["request_us"]["count"] else None),
]


def _key(doc, run):
    return tuple(kv for kv in R.config_key(doc, run) if kv[0] != "source")


def compare(base, new, alpha=0.05):
    """Rows (configuration, metric, unit, better, base median, new median, change, p, verdict)
    and warnings."""
    from scipy.stats import mannwhitneyu
    b_groups = R.group([base], _key)
    n_groups = R.group([new], _key)
    common = [k for k in b_groups if k in n_groups]
    rows, warnings = [], []
    shared = R.shared_fields(common)
    for key in common:
        nb, nn = len(b_groups[key]), len(n_groups[key])
        enough = R.smallest_p(nb, nn) < alpha
        if not enough:
            need = R.repetitions_needed(alpha)
            warnings.append(f"{R.label(key, shared)}: {nb} against {nn} repetitions cannot give a p-value "
                            f"below {alpha:g} (the smallest is {R.smallest_p(nb, nn):.3g}); set "
                            f"repetitions = {need} or more in the scenario")
        for name, unit, better, value in METRICS:
            bv = [v for v in (value(r) for _, r in b_groups[key]) if v is not None]
            nv = [v for v in (value(r) for _, r in n_groups[key]) if v is not None]
            if not bv or not nv:
                continue
            mb, mn = statistics.median(bv), statistics.median(nv)
            change = (mn - mb) / mb if mb else None
            p = None
            verdict = "too few repetitions"
            if enough and R.smallest_p(len(bv), len(nv)) < alpha:
                p = mannwhitneyu(nv, bv, alternative="two-sided").pvalue
                if p >= alpha or change is None:
                    verdict = "no significant change"
                else:
                    improved = (mn < mb) == (better == "lower")
                    verdict = "better" if improved else "WORSE"
            rows.append((R.label(key, shared), name, unit, better, mb, mn, change, p, verdict))
    return rows, warnings, common


def _cells(row):
    cfg, name, unit, better, mb, mn, change, p, verdict = row
    return [cfg, name, unit, better, f"{mb:.4g}", f"{mn:.4g}",
            "–" if change is None else f"{change * 100:+.1f}%", "–" if p is None else f"{p:.3f}", verdict]


HEAD = ["configuration", "metric", "unit", "better", "base", "new", "change", "p", "verdict"]


def render(rows, markdown=False):
    return table.render(HEAD, [_cells(r) for r in rows], markdown)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="msbench_report diff", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--markdown", help="also write the table as Markdown here")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    args = ap.parse_args(argv)
    try:
        base, new = load_results(args.base), load_results(args.new)
    except ResultsError as e:
        print(f"msbench_report diff: {e}", file=sys.stderr)
        return 2
    rows, warnings, common = compare(base, new, args.alpha)
    if not common:
        print(f"msbench_report diff: {args.base} and {args.new} share no configuration "
              "(engine, backend, index, timers, target, model, connections)", file=sys.stderr)
        return 2
    print(f"base: {args.base}\nnew:  {args.new}\n")
    print(render(rows), end="")
    for w in warnings:
        print(f"warning: {w}")
    if args.markdown:
        md = (f"## msbench diff\n\nbase `{args.base}`, new `{args.new}`\n\n" + render(rows, True)
              + "".join(f"\n> warning: {w}\n" for w in warnings))
        with open(args.markdown, "w") as f:
            f.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
