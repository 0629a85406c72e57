"""Reading results files, with errors that name the file and what is wrong with it."""

import json
from pathlib import Path

SCHEMA = "msbench-results"
SUPPORTED_VERSIONS = {1}


class ResultsError(Exception):
    """A results file that cannot be used: the message names the file."""


def load_any(path):
    """An msbench results file, or a Google Benchmark JSON file (kind 'benchmark')."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if isinstance(doc, dict) and "benchmarks" in doc and "context" in doc:
        if not isinstance(doc["benchmarks"], list):
            raise ResultsError(f"{path}: 'benchmarks' must be a list")
        doc["_path"] = str(path)
        doc["_kind"] = "benchmark"
        return doc
    doc = load_results(path)
    doc["_kind"] = "results"
    return doc


def load_results(path):
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ResultsError(f"{path}: neither an msbench results file (schema is not '{SCHEMA}') "
                           "nor Google Benchmark JSON")
    version = doc.get("schema_version")
    if version not in SUPPORTED_VERSIONS:
        raise ResultsError(
            f"{path}: schema_version {version!r} is not supported (supported: {sorted(SUPPORTED_VERSIONS)})")
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ResultsError(f"{path}: 'runs' must be a non-empty list")
    for i, run in enumerate(runs):
        for key in ("config", "socket_action_us", "sockindex", "timers"):
            if key not in run:
                raise ResultsError(f"{path}: runs[{i}] lacks '{key}'")
    doc["_path"] = str(path)
    return doc
