"""weirlab: what the seven lessons share — finding the repository, the `bench` CLI, running it.

A lesson imports this module (its folder, notebooks/, first on sys.path) and keeps its own cells
about its lesson. The module imports no Go: it runs `bench run` with subprocess, exactly as a user
of the command line does, and reads the files it writes:

    --summary FILE.json   the run's summary (figures, counters, series, the reference check)
    --out FILE.csv        the run's results (window_start_ms, window_end_ms, key, value, ...)
    --trace FILE.csv      one row per record read from the log (kind "record") and per pane the sink
                          received (kind "pane"): kind, runtime, partition, offset, event_time_ms,
                          event_time_shift_ms, ingest_ns, window_start_ms, window_end_ms, key,
                          pane_index, pane_timing, emit_ns, watermark_ms, task (read_trace)

    lab = Lab("lesson1")     # finds the repository, gets a bench binary, makes a folder for the runs
    r = lab.run("a", "ysb", "--runtime", "reference", "--events", 1000, trace=True)
    r = lab.bench_run("b", "ysb", "--runtime", "reference", "--events", 1000, out=True)

The bench binary: when the environment names one in WEIR_BENCH (notebooks/run builds cmd/bench once
and exports it, so seven lessons do not build seven times), Lab uses it; otherwise it builds
./cmd/bench with /usr/local/go/bin/go into the lab's folder, once per Lab.

Two ways to run, kept from the lessons that use them:
  Lab.run        lessons 1-4: returns rc, stderr, summary, results (the --out CSV as a DataFrame)
                 and trace (the --trace CSV as a DataFrame); stops a run that overruns its timeout.
  Lab.bench_run  lessons 5-7: returns ok, code, summary ({} on failure), out and trace (paths);
                 Lab.bench_many runs several at the same time.
Neither raises on a failed run: it prints the command's last lines of stderr and the figures read
from it are None / NaN, so one bad run does not stop a lesson.
"""

import json
import math
import os
import pathlib
import re
import signal
import statistics
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

NAN = float("nan")
GO = "/usr/local/go/bin/go"

# The columns of a --trace file (the same in its Parquet and CSV forms).
TRACE_COLUMNS = ("kind", "runtime", "partition", "offset", "event_time_ms", "event_time_shift_ms",
                 "ingest_ns", "window_start_ms", "window_end_ms", "key", "pane_index", "pane_timing",
                 "emit_ns", "watermark_ms", "task")
_TRACE_TEXT = {"kind": str, "runtime": str, "key": str, "pane_timing": str}


def find_repo(start=None):
    """The weir repository holding `start` (default: the working directory): the first folder at or
    above it with go.mod and cmd/bench."""
    here = pathlib.Path(start or pathlib.Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "go.mod").is_file() and (d / "cmd" / "bench").is_dir():
            return d
    raise RuntimeError(f"no weir repository (go.mod and cmd/bench) in {here} or above: "
                       "open the lesson from the repository's notebooks/ folder")


def bench_binary(repo, folder):
    """The bench CLI to run: $WEIR_BENCH when set (it must be an executable file), else a build of
    repo's ./cmd/bench into folder."""
    given = os.environ.get("WEIR_BENCH")
    if given:
        p = pathlib.Path(given)
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise RuntimeError(f"WEIR_BENCH={given} is not an executable file: build one with "
                               f"`go build -o FILE ./cmd/bench` in {repo}, or unset WEIR_BENCH to build here")
        return p
    if not os.access(GO, os.X_OK):
        raise RuntimeError(f"{GO} not found: install Go in /usr/local/go (the version go.mod names), "
                           "or set WEIR_BENCH to a built cmd/bench")
    out = pathlib.Path(folder) / "bench"
    env = dict(os.environ, PATH="/usr/local/go/bin" + os.pathsep + os.environ.get("PATH", ""))
    # -ldflags="-s -w": no symbol table or DWARF in this throwaway binary, so it links faster
    b = subprocess.run([GO, "build", "-ldflags=-s -w", "-o", str(out), "./cmd/bench"], cwd=repo,
                       env=env, capture_output=True, text=True)
    if b.returncode != 0:
        raise RuntimeError(f"go build ./cmd/bench failed (exit {b.returncode}):\n{b.stderr}")
    return out


def read_trace(path, columns=None):
    """A --trace CSV file as a DataFrame (all columns, or only the named ones). Times are int64:
    ingest_ns and emit_ns wall-clock nanoseconds, event_time_ms and watermark_ms event-time
    milliseconds (add event_time_shift_ms to put them on the wall clock)."""
    path = pathlib.Path(path)
    if path.suffix != ".csv":
        raise ValueError(f"{path}: read_trace reads the CSV trace; run bench with --trace FILE.csv")
    with path.open() as f:
        header = f.readline().strip().split(",")
    want = list(columns) if columns is not None else header
    missing = [c for c in want if c not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing}; it has {header}")
    return pd.read_csv(path, usecols=want, dtype={c: t for c, t in _TRACE_TEXT.items() if c in want},
                       keep_default_na=False)[want]


class Lab:
    """One lesson's runs: the repository, the bench binary and the folder every run writes to."""

    def __init__(self, name):
        self.repo = find_repo()
        self.out = pathlib.Path(tempfile.mkdtemp(prefix=f"weir-{name}-"))
        self.bench = bench_binary(self.repo, self.out)

    def __repr__(self):
        return f"bench {self.bench} (repository {self.repo}); the runs write to {self.out}"

    def _files(self, name):
        return (self.out / f"{name}.json", self.out / f"{name}.csv", self.out / f"{name}.trace.csv")

    def run(self, name, workload, *flags, out=True, trace=False, timeout=60, quiet=False):
        """Runs `bench run WORKLOAD FLAGS` and returns a dict: name, cmd, rc (exit status; None if
        it did not finish in `timeout` s and was stopped), stdout, stderr, summary (the --summary
        object, or None), results (the --out CSV as a DataFrame, or None) and trace (the --trace CSV
        as a DataFrame when trace=True, or None). A failed run prints why; its summary, results and
        trace are None. quiet: print nothing on failure (for a run expected to be refused)."""
        summary, csv, tr = self._files(name)
        args = [str(self.bench), "run", workload, *map(str, flags), "--summary", str(summary)]
        if out:
            args += ["--out", str(csv)]
        if trace:
            args += ["--trace", str(tr)]
        for f in (summary, csv, tr):
            f.unlink(missing_ok=True)
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)  # bench stops within a second on SIGTERM
            try:
                stdout, stderr = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                stdout, stderr = p.communicate()
            rc = None
        r = {"name": name, "cmd": "bench run " + " ".join(args[2:]), "rc": rc, "stdout": stdout,
             "stderr": stderr, "summary": None, "results": None, "trace": None}
        if rc is None and not quiet:
            print(f"{name}: did not finish in {timeout} s and was stopped; its last lines:\n{tail(stderr)}")
        elif rc != 0 and not quiet:
            print(f"{name}: bench exited with status {rc}:\n{tail(stderr)}")
        elif rc == 0:
            if summary.exists():
                r["summary"] = json.loads(summary.read_text())
            if out and csv.exists():
                r["results"] = pd.read_csv(csv, dtype={"key": str, "value": str}, keep_default_na=False)
            if trace and tr.exists():
                r["trace"] = read_trace(tr)
        return r

    def bench_run(self, name, workload, *flags, out=False, trace=False, timeout=300):
        """Runs `bench run WORKLOAD FLAGS --summary name.json` (and --out name.csv, --trace
        name.trace.csv when asked). Returns a dict: ok (exit status 0), code, stdout, stderr,
        summary (the --summary object, {} when the run failed), out and trace (paths, None when
        not written; read the trace with read_trace). A failed run prints its command and stderr."""
        summary, csv, tr = self._files(name)
        cmd = [str(self.bench), "run", workload, *map(str, flags), "--summary", str(summary)]
        if out:
            cmd += ["--out", str(csv)]
        if trace:
            cmd += ["--trace", str(tr)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            code, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            code, stdout, stderr = -1, "", f"timed out after {timeout} s: {e}"
        r = {"name": name, "ok": code == 0, "code": code, "stdout": stdout, "stderr": stderr,
             "summary": {}, "out": None, "trace": None}
        if code == 0 and summary.is_file():
            r["summary"] = json.loads(summary.read_text())
            if out and csv.is_file():
                r["out"] = csv
            if trace and tr.is_file():
                r["trace"] = tr
        else:
            r["ok"] = False
            print(f"run {name} failed (exit {code}): {' '.join(cmd[1:])}\n{stderr.strip()}")
        return r

    def bench_many(self, specs, workers=8):
        """Runs bench_run(*spec[:-1], **spec[-1]) for every spec at the same time (paced runs mostly
        wait for their input, so they share the machine fairly); the results in the order given."""
        with ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(lambda s: self.bench_run(*s[:-1], **s[-1]), specs))


def seconds(d):
    """A Go duration such as "250ms", "1.5s", "200us" or "1m", in seconds."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", str(d))
    if not parts or "".join(a + b for a, b in parts) != str(d):
        raise ValueError(f"{d!r} is not a duration like 250ms, 1.5s or 200us")
    return sum(float(a) * units[b] for a, b in parts)


def paced(rate, span):
    """The flags of a paced run of a known length: --rate RATE and --events RATE × SPAN (a Go
    duration), so that bench checks the whole input against the reference and can trace every
    record. (bench run --duration SPAN is an unbounded stream instead: bounded memory, checked
    online per window, no trace.)"""
    return ["--rate", rate, "--events", round(rate * seconds(span))]


def tail(text, n=8):
    """The last n lines of text."""
    return "\n".join((text or "").strip().splitlines()[-n:])


# Reading a Lab.run result.

def ok(r):
    """True when the run finished and wrote its summary."""
    return r["rc"] == 0 and r["summary"] is not None


def counter(r, name):
    """A runtime counter of a finished run (0 when the runtime does not report it; None when the
    run failed)."""
    return r["summary"].get("counters", {}).get(name, 0) if ok(r) else None


def series(r, name):
    """A time series of a run's summary as a DataFrame (t in s, v); empty when absent."""
    pts = (r["summary"] or {}).get("series", {}).get(name, []) if r["summary"] else []
    return pd.DataFrame(pts, columns=["T", "V"]).rename(columns={"T": "t", "V": "v"})


def diff(results, reference):
    """Our own check of one run's --out against the reference run's --out, per (window, key):
    equal, missing (under-counted to nothing), extra, below and above the batch answer; table is
    the joined rows with their delta."""
    keys = ["window_start_ms", "window_end_ms", "key"]
    m = results[keys + ["value"]].merge(reference[keys + ["value"]], on=keys, how="outer",
                                        suffixes=("", "_ref"), indicator=True)
    got = pd.to_numeric(m["value"], errors="coerce")
    want = pd.to_numeric(m["value_ref"], errors="coerce")
    m["delta"] = got.fillna(0) - want.fillna(0)
    both = m["_merge"] == "both"
    return {"windows": int((m["_merge"] != "left_only").sum()),
            "equal": int((both & (m["value"] == m["value_ref"])).sum()),
            "missing": int((m["_merge"] == "right_only").sum()),
            "extra": int((m["_merge"] == "left_only").sum()),
            "below": int((both & (m["delta"] < 0)).sum()),
            "above": int((both & (m["delta"] > 0)).sum()),
            "table": m}


# Reading a Lab.bench_run result.

def get(r, *keys, default=NAN):
    """r["summary"][k1][k2]...: the figure a run reported, or default when the run failed or did
    not report it (never a KeyError)."""
    v = r.get("summary", {}) if isinstance(r, dict) else {}
    for k in keys:
        if not isinstance(v, dict) or k not in v or v[k] is None:
            return default
        v = v[k]
    return v


def _measured(xs):
    return [x for x in xs if isinstance(x, (int, float)) and not math.isnan(x)]


def median(xs):
    """The median of the figures that were measured (NaN when none was)."""
    xs = _measured(xs)
    return statistics.median(xs) if xs else NAN


def spread(xs):
    """'median [min-max]' of the figures that were measured."""
    xs = _measured(xs)
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):.4g} [{min(xs):.4g}-{max(xs):.4g}]"
