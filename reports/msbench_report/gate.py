"""The performance gate: compares current metrics against a committed baseline.

python -m msbench_report.gate --baseline B.json --current C.json [--summary gate.md]
    deterministic counts (gate_workload's JSON): any change in the bad direction fails.
python -m msbench_report.gate --baseline B.json --current C.json --wall
    Google Benchmark JSON with repetitions: a benchmark fails only if its times are slower
    by a Mann-Whitney U test (p < --alpha) AND by at least --min-effect in the median, so a
    noisy machine does not fail CI. Repetitions too few for any p-value below --alpha (5 a
    side at 0.01) are unusable input (exit 2): no verdict can be drawn from them.

Prints a table (metric, unit, better, baseline, current, change, verdict) under the
baseline's provenance; writes it as Markdown with --summary and to $GITHUB_STEP_SUMMARY
when set, as JUnit XML with --junit. A metric this machine cannot measure is given with
--skip METRIC=REASON: listed as skipped, never failed. Exits 0 on pass, 1 on a regression
(printing how to refresh the baseline when the change is intended), 2 on unusable input.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from . import table
from .runs import repetitions_needed, smallest_p

# Unit and better direction of each deterministic metric the gate workload prints.
METRICS = {
    "engine.instructions_per_socket_action": ("instructions/call", "lower"),
    "engine.probes_per_lookup": ("entries compared/lookup", "lower"),
    "engine.socket_action_calls": ("calls", "lower"),
    "engine.socket_callbacks_per_transfer": ("callbacks/transfer", "lower"),
    "engine.syscalls_per_event": ("syscalls/event", "lower"),
    "engine.timer_ops_per_transfer": ("timer ops/transfer", "lower"),
    "engine.transfers_ok": ("transfers", "higher"),
    "sockindex.probes_per_lookup_10k": ("entries compared/lookup", "lower"),
    "timers.rotations_per_op": ("rotations/op", "lower"),
    "timers.steps_per_op": ("nodes walked/op", "lower"),
}
FAILING = ("REGRESSION", "MISSING")


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


def _direction(name):
    return METRICS.get(name, ("", "lower"))[1]


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
        higher = _direction(name) == "higher"
        worse = (c < b * (1 - tolerance)) if higher else (c > b * (1 + tolerance) + tolerance)
        better = (c > b) if higher else (c < b)
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
        # One-sided: 3 against 3 cannot go below 0.05, 5 against 5 reaches 0.004.
        if smallest_p(len(b), len(c), two_sided=False) < alpha:
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
    # Every digit the metric carries: a change in the third decimal of an instruction count is
    # a regression, and the table must show the two numbers that differ.
    return "–" if v is None else f"{v:.10g}"


def _fmt_change(ch):
    if ch is None:
        return "–"
    percent = ch * 100
    # A change too small for two decimals is still a change: never print it as +0.00%.
    return f"{percent:+.2f}%" if ch == 0 or abs(percent) >= 0.005 else f"{percent:+.1e}%"


def _table(rows, wall):
    head = ("metric", "unit", "better", "baseline", "current", "change", "verdict")
    body = []
    for n, b, c, ch, v in rows:
        unit, better = ("ns (median)", "lower") if wall else METRICS.get(n, ("", "lower"))
        body.append((n, unit or "–", better, _fmt(b), _fmt(c), _fmt_change(ch), v))
    return head, body


def render(rows, markdown=False, wall=False):
    return table.render(*_table(rows, wall), markdown=markdown)


def junit(rows, suite="msbench-gate"):
    """JUnit XML: one test case per metric; a regression or missing metric is a failure, a
    skipped metric is skipped with its reason."""
    failures = sum(r[4] in FAILING for r in rows)
    skipped = sum(r[4].startswith("skipped") for r in rows)
    cases = []
    for n, b, c, ch, v in rows:
        body = ""
        if v in FAILING:
            body = (f"<failure message={quoteattr(v)}>"
                    f"{escape(f'baseline {_fmt(b)}, current {_fmt(c)}')}</failure>")
        elif v.startswith("skipped"):
            body = f"<skipped message={quoteattr(v)}/>"
        cases.append(f'  <testcase classname="{suite}" name={quoteattr(n)}>{body}</testcase>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="{suite}" tests="{len(rows)}" '
            f'failures="{failures}" skipped="{skipped}">\n' + "\n".join(cases) + "\n</testsuite>\n")


def provenance(doc, path):
    """Where the baseline came from: the commit and date its refresh recorded, else the last
    commit that changed the file."""
    if isinstance(doc, dict) and doc.get("commit"):
        return f"baseline: commit {doc['commit']}" + (f", {doc['date']}" if doc.get("date") else "")
    try:
        log = subprocess.run(["git", "log", "-1", "--format=%h, %cs", "--", Path(path).name],
                             cwd=Path(path).resolve().parent, capture_output=True, text=True, timeout=10)
        if log.returncode == 0 and log.stdout.strip():
            return f"baseline: last changed in commit {log.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return "baseline: commit not recorded (refresh it to record one)"


def _parse_skip(values):
    out = {}
    for v in values:
        name, _, reason = v.partition("=")
        out[name] = reason or "not measurable here"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="msbench_report.gate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--summary", help="also write the table as Markdown here")
    ap.add_argument("--junit", help="also write JUnit XML here")
    ap.add_argument("--wall", action="store_true", help="wall-time samples (Google Benchmark JSON)")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--min-effect", type=float, default=0.10)
    ap.add_argument("--skip", action="append", default=[], metavar="METRIC=REASON",
                    help="a metric this machine cannot measure: listed as skipped, not failed")
    ap.add_argument("--refresh-hint", default="bash tools/gate.sh BUILD_DIR --refresh",
                    help="the command printed on failure to refresh the baseline")
    args = ap.parse_args(argv)
    try:
        base_doc = _load(args.baseline, None if args.wall else "msbench-gate-metrics")
        cur_doc = _load(args.current, None if args.wall else "msbench-gate-metrics")
        if args.wall:
            rows = compare_wall(wall_samples(base_doc, args.baseline), wall_samples(cur_doc, args.current),
                                args.alpha, args.min_effect)
            if not rows:
                raise GateError(f"{args.baseline} and {args.current} share no benchmark")
            few = [r[0] for r in rows if r[4] == "too few samples"]
            if few:
                need = repetitions_needed(args.alpha, two_sided=False)
                raise GateError(f"too few samples for a verdict: {len(few)} of {len(rows)} benchmarks have too "
                                f"few repetitions for any p-value below {args.alpha:g} ({', '.join(few[:3])}"
                                f"{', ...' if len(few) > 3 else ''}); run with --benchmark_repetitions="
                                f"{need} or more on both sides")
        else:
            rows = compare_counts(base_doc["metrics"], cur_doc["metrics"])
    except GateError as e:
        print(f"gate: {e}", file=sys.stderr)
        return 2
    skip = _parse_skip(args.skip)
    rows = [(n, b, None if n in skip else c, None if n in skip else ch,
             f"skipped: {skip[n]}" if n in skip else v) for n, b, c, ch, v in rows]
    failed = [r for r in rows if r[4] in FAILING]
    status = "FAIL" if failed else "pass"
    where = "" if args.wall else provenance(base_doc, args.baseline)
    skipped = [r[0] for r in rows if r[4].startswith("skipped")]
    lines = [f"gate: {status} ({len(failed)} of {len(rows) - len(skipped)} metrics regressed"
             + (f", {len(skipped)} skipped: {', '.join(skipped)}" if skipped else "") + ")"]
    if failed:
        lines.append(f"gate: if the change is intended, refresh the baseline and commit it: {args.refresh_hint}")
    print((where + "\n" if where else "") + render(rows, wall=args.wall), end="")
    print("\n".join(lines))
    markdown = (f"## msbench gate: {status}\n\n" + (f"{where}\n\n" if where else "")
                + render(rows, markdown=True, wall=args.wall) + "\n" + "\n\n".join(lines) + "\n")
    if args.summary:
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary).write_text(markdown)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as f:
            f.write(markdown)
    if args.junit:
        Path(args.junit).parent.mkdir(parents=True, exist_ok=True)
        Path(args.junit).write_text(junit(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
