"""The performance gate: compares current metrics against a committed baseline.

python -m msbench_report.gate --baseline B.json --current C.json [--summary gate.md]
    deterministic counts (gate_workload's JSON): any change in the bad direction fails.
python -m msbench_report.gate --baseline B.json --current C.json --wall
    Google Benchmark JSON with repetitions: a benchmark fails only if its times are slower
    by a Mann-Whitney U test (p < --alpha) AND by at least --min-effect in the median, so a
    noisy machine does not fail CI.

Prints a table (metric, baseline, current, change, verdict), writes it as Markdown with
--summary, exits 1 on a regression, 2 on unusable input.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

# Deterministic metrics where higher is better; every other one is a cost (lower is better).
HIGHER_IS_BETTER = {"engine.transfers_ok"}


class GateError(Exception):
    pass


def _load(path, schema=None):
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as e:
        raise GateError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise GateError(f"{path}: not JSON (line {e.lineno}: {e.msg})") from None
    if schema and (not isinstance(doc, dict) or doc.get("schema") != schema
                   or not isinstance(doc.get("metrics"), dict)):
        raise GateError(f"{path}: not a '{schema}' file with a 'metrics' object")
    return doc


def compare_counts(baseline, current, tolerance=1e-9):
    """Rows (metric, baseline, current, change, verdict) for exact metrics."""
    rows = []
    for name in sorted(set(baseline) | set(current)):
        if name not in current:
            rows.append((name, baseline[name], None, None, "MISSING"))
            continue
        if name not in baseline:
            rows.append((name, None, current[name], None, "new"))
            continue
        b, c = float(baseline[name]), float(current[name])
        change = (c - b) / b if b else (0.0 if c == b else float("inf"))
        worse = (c < b * (1 - tolerance)) if name in HIGHER_IS_BETTER else (c > b * (1 + tolerance) + tolerance)
        better = (c > b) if name in HIGHER_IS_BETTER else (c < b)
        rows.append((name, b, c, change, "REGRESSION" if worse else ("better" if better else "same")))
    return rows


def wall_samples(doc, path):
    """{benchmark name: [real_time of each repetition]} from Google Benchmark JSON."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise GateError(f"{path}: not Google Benchmark JSON")
    out = {}
    for row in doc["benchmarks"]:
        if row.get("run_type", "iteration") == "iteration":
            out.setdefault(row.get("run_name", row["name"]), []).append(float(row["real_time"]))
    return out


def compare_wall(baseline, current, alpha=0.01, min_effect=0.10):
    from scipy.stats import mannwhitneyu
    rows = []
    for name in sorted(set(baseline) & set(current)):
        b, c = baseline[name], current[name]
        mb, mc = statistics.median(b), statistics.median(c)
        change = (mc - mb) / mb if mb else 0.0
        verdict = "same"
        if len(b) >= 3 and len(c) >= 3:
            p = mannwhitneyu(c, b, alternative="greater").pvalue
            if p < alpha and change >= min_effect:
                verdict = "REGRESSION"
            elif mannwhitneyu(c, b, alternative="less").pvalue < alpha and change <= -min_effect:
                verdict = "better"
        else:
            verdict = "too few samples"
        rows.append((name, mb, mc, change, verdict))
    return rows


def _fmt(v):
    return "-" if v is None else (f"{v:.6g}")


def render(rows, markdown=False):
    head = ("metric", "baseline", "current", "change", "verdict")
    body = [(n, _fmt(b), _fmt(c), "-" if ch is None else f"{ch * 100:+.2f}%", v) for n, b, c, ch, v in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(str(x[i]).ljust(widths[i]) for i in range(len(head))) for x in [head, *body]) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="msbench_report.gate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--summary", help="also write the table as Markdown here")
    ap.add_argument("--wall", action="store_true", help="wall-time samples (Google Benchmark JSON)")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--min-effect", type=float, default=0.10)
    ap.add_argument("--ignore", action="append", default=[], metavar="METRIC",
                    help="leave this metric out (e.g. instruction counts in a sanitizer build)")
    args = ap.parse_args(argv)
    try:
        if args.wall:
            rows = compare_wall(wall_samples(_load(args.baseline), args.baseline),
                                wall_samples(_load(args.current), args.current),
                                args.alpha, args.min_effect)
        else:
            rows = compare_counts(_load(args.baseline, "msbench-gate-metrics")["metrics"],
                                  _load(args.current, "msbench-gate-metrics")["metrics"])
    except GateError as e:
        print(f"gate: {e}", file=sys.stderr)
        return 2
    rows = [r for r in rows if r[0] not in args.ignore]
    failed = [r for r in rows if r[4] in ("REGRESSION", "MISSING")]
    print(render(rows), end="")
    verdict = f"gate: {'FAIL' if failed else 'pass'} ({len(failed)} of {len(rows)} metrics regressed)"
    print(verdict)
    if args.summary:
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary).write_text(f"## msbench gate: {'FAIL' if failed else 'pass'}\n\n" + render(rows, True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
