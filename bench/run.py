"""Benchmark painref against the floor: `python -c "import typer, rich.console, rich.table"`.

Every figure is a ratio to the floor measured in the same run, with the same
interpreter, commands alternating, medians of --runs runs. Peak memory is the
child's maximum resident set size (os.wait4).

    python bench/run.py                 # full: includes a 10 000 + 5 000 entry synthetic knowledge base
    python bench/run.py --quick         # reduced size and runs, for CI (fails only on error)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import synthesize, write  # noqa: E402

Case = tuple[list[str], Callable[[], None] | None, dict[str, str]]  # argv, prepare, extra environment


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}\n{err}")
    return elapsed, usage.ru_maxrss


def measure(cases: dict[str, Case], runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median wall time and median peak memory per case, running the cases in alternation."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    mems: dict[str, list[float]] = {name: [] for name in cases}
    for argv, prepare, extra in cases.values():  # warm-up, not counted
        if prepare:
            prepare()
        run_once(argv, {**env, **extra})
    for _ in range(runs):
        for name, (argv, prepare, extra) in cases.items():
            if prepare:
                prepare()
            elapsed, rss = run_once(argv, {**env, **extra})
            times[name].append(elapsed)
            mems[name].append(rss)
    return {name: (statistics.median(times[name]), statistics.median(mems[name])) for name in cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced size and runs (CI)")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 15, quick 3)")
    parser.add_argument("--procedures", type=int, default=None, help="synthetic procedures (default 10000)")
    parser.add_argument("--conditions", type=int, default=None, help="synthetic conditions (default 5000)")
    parser.add_argument("--painref", default=None, help="painref executable (default: next to this python)")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 15)
    n_proc = args.procedures or (300 if args.quick else 10000)
    n_cond = args.conditions or (150 if args.quick else 5000)
    painref = args.painref or shutil.which("painref", path=str(Path(sys.executable).parent)) or "painref"
    python = str(Path(painref).resolve().parent / "python")
    if not Path(python).exists():
        python = sys.executable

    work = Path(tempfile.mkdtemp(prefix="painref-bench-"))
    try:
        env = {**os.environ, "PAINREF_CACHE_DIR": str(work / "cache"), "PAINREF_HOME": str(work / "home")}
        env.pop("PAINREF_DATA", None)
        env.pop("PAINREF_PATH", None)
        floor = [python, "-c", "import typer, rich.console, rich.table"]

        # A copy of the built-in knowledge base whose files we can touch.
        from painref.dirs import builtin_data_dir

        edited = work / "edited"
        shutil.copytree(builtin_data_dir(), edited, ignore=shutil.ignore_patterns("*.md"))

        def touch() -> None:
            for f in edited.glob("*.yaml"):
                os.utime(f, None)
                f.write_text(f.read_text())  # same bytes, new mtime: the cache must rebuild

        cases: dict[str, Case] = {
            "floor": (floor, None, {}),
            "lookup sciatica": ([painref, "lookup", "sciatica"], None, {}),
            "show kyphoplasty": ([painref, "show", "kyphoplasty"], None, {}),
            "compare rfa epidural": ([painref, "compare", "rfa", "epidural"], None, {}),
            "lookup sciatica --json": ([painref, "lookup", "sciatica", "--json"], None, {}),
            "show kyphoplasty --json": ([painref, "show", "kyphoplasty", "--json"], None, {}),
            "search ultrasound": ([painref, "search", "ultrasound"], None, {}),
            # The same command after a data file changed (PAINREF_DATA names the edited copy).
            "lookup after edit": ([painref, "lookup", "sciatica"], touch, {"PAINREF_DATA": str(edited)}),
        }
        started = time.perf_counter()
        base = measure(cases, runs, env)

        synth_dir = work / "synth"
        print(f"writing synthetic knowledge base: {n_proc} procedures, {n_cond} conditions ...", flush=True)
        procs, conds = synthesize(n_proc, n_cond)
        write(synth_dir, procs, conds)
        query = procs[len(procs) // 2]["name"]
        scale_cache = work / "scale-cache"

        def drop_cache() -> None:
            shutil.rmtree(scale_cache, ignore_errors=True)

        scale_env = {**env, "PAINREF_CACHE_DIR": str(scale_cache), "PAINREF_DATA": str(synth_dir)}
        scale_runs = max(3, runs // 5)
        started_cold = time.perf_counter()
        run_once([painref, "lookup", query], scale_env)
        first_build = time.perf_counter() - started_cold
        warm = measure(
            {
                "floor": (floor, None, {}),
                "scale warm": ([painref, "lookup", query], None, {}),
                "scale search": ([painref, "search", "ultrasound", "guided"], None, {}),
            },
            runs,
            scale_env,
        )
        cold = measure({"scale cold": ([painref, "lookup", query], drop_cache, {})}, scale_runs, scale_env)

        floor_t, floor_m = base["floor"]
        rows: list[tuple[str, float, float, bool]] = []
        for name, limit in [
            ("lookup sciatica", 1.15),
            ("show kyphoplasty", 1.15),
            ("compare rfa epidural", 1.15),
            ("lookup sciatica --json", 0.85),
            ("show kyphoplasty --json", 0.85),
            ("search ultrasound", 1.3),
            ("lookup after edit", 3.0),
        ]:
            ratio = base[name][0] / floor_t
            rows.append((f"{name}: wall time", ratio, limit, ratio <= limit))
        mem_ratio = base["lookup sciatica"][1] / floor_m
        rows.append(("lookup sciatica: peak memory", mem_ratio, 1.5, mem_ratio <= 1.5))
        w = warm["scale warm"][0] / warm["floor"][0]
        rows.append((f"{n_proc}+{n_cond} entries, warm lookup", w, 1.5, w <= 1.5))
        ws = warm["scale search"][0] / warm["floor"][0]
        rows.append((f"{n_proc}+{n_cond} entries, warm search", ws, 2.0, ws <= 2.0))

        print(f"\nfloor: {floor_t * 1000:.0f} ms, {floor_m / 1024:.1f} MiB (median of {runs})")
        print("| target | ratio to floor | limit | holds |\n| --- | ---: | ---: | --- |")
        for name, ratio, limit, ok in rows:
            print(f"| {name} | {ratio:.2f} | {limit:.2f} | {'yes' if ok else 'NO'} |")
        cold_t = cold["scale cold"][0]
        print(
            f"\n{n_proc}+{n_cond} entries, cold build and lookup: {cold_t:.1f} s median of {scale_runs} "
            f"(first build {first_build:.1f} s; no limit: it is reported)"
        )
        print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
