"""Ingest throughput and peak memory, against the goals: 200,000 posts/s for CSV formats, under 1 GB.

    python benchmarks/bench_ingest.py                    # German elections CSV + a generated 5M-post file
    python benchmarks/bench_ingest.py --posts 1000000    # a smaller generated file
    python benchmarks/bench_ingest.py --skip-generated   # only the real data set
    python benchmarks/bench_ingest.py --save out.json --baseline before.json   # keep figures, compare (speed, CPU)
    python benchmarks/bench_ingest.py --repeat 3          # each input ingested 3 times: medians, and each run's time

Each input is ingested by ``rrm ingest`` in a child process, into a fresh temporary workspace; the
time is the child's wall-clock time (interpreter start included) and the memory is the child's peak
resident set size, read with ``os.wait4``; the child imports the package from this checkout's ``src``.
The generated file is an X Information Operations archive
CSV from ``rrm.demo.write_posts``; its generation is timed too (not against a goal). The real data
set is ``social/coortweet/german_elections.csv`` under ``RRM_SHARED_DATA`` (default
``../shared/data`` next to the repository). The machine's load is printed, since others may share it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
GOAL_POSTS_PER_SECOND = 200_000
GOAL_PEAK_MB = 1024
console = Console(highlight=False, width=max(Console().width, 240))


@dataclass(frozen=True)
class Measure:
    name: str
    posts: int
    seconds: float
    peak_mb: float
    cpu_seconds: float
    rejected: int = 0
    goal: bool = True
    ingest_seconds: float = 0.0
    """from the batch's own provenance (started → finished): the ingest without interpreter start-up"""
    runs: tuple[float, ...] = ()
    """with ``--repeat``: the wall-clock seconds of every run, of which this is the median run"""

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0


def _child(args: list[str]) -> tuple[str, float, float, float]:
    """Run ``args``; its standard output, wall-clock seconds, peak RSS in MB and CPU seconds (user + system)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # the child imports this checkout's package, whatever an installed copy points to
        path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(args, stdout=out, stderr=err, cwd=REPO, env=os.environ | {"PYTHONPATH": path})
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            error = err.read().decode("utf-8", "replace")
            raise SystemExit(f"{' '.join(args[:4])}… failed ({process.returncode}):\n{error[-2000:]}")
        out.seek(0)
        text = out.read().decode("utf-8")
    return text, elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # ru_maxrss: KiB on Linux


def ingest(name: str, path: Path) -> Measure:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        output, seconds, peak, cpu = _child(
            [sys.executable, "-c", "from rrm.cli.app import main; main()", "ingest", str(path), "--workspace",
             str(Path(folder) / "ws"), "--json"]
        )
    # DuckDB may draw its progress bar on standard output before the JSON: skip to the JSON
    report = json.loads(output[output.find("{"):])
    read = sum(b["records_read"] for b in report["batches"])
    rejected = sum(b["rejected"] for b in report["batches"])
    inside = sum(
        (datetime.fromisoformat(b["finished_at"]) - datetime.fromisoformat(b["started_at"])).total_seconds()
        for b in report["batches"]
    )
    return Measure(name, read, seconds, peak, cpu, rejected, ingest_seconds=inside)


def ingest_median(name: str, path: Path, repeat: int) -> Measure:
    """``repeat`` ingests of ``path``, one after the other, each into a fresh workspace: the run of median wall
    time, with every run's time (the machine's speed changes from minute to minute; see the README)."""
    runs = sorted((ingest(name, path) for _ in range(max(repeat, 1))), key=lambda m: m.seconds)
    middle = runs[(len(runs) - 1) // 2]
    return replace(middle, runs=tuple(m.seconds for m in runs)) if len(runs) > 1 else middle


def generate(path: Path, posts: int, accounts: int, seed: int) -> Measure:
    code = (
        "import sys; from pathlib import Path; from rrm.demo import ScenarioConfig, write_posts; "
        f"print(write_posts(ScenarioConfig(seed={seed}, organic_accounts={accounts}, posts_target={posts}), "
        f"Path(sys.argv[1])))"
    )
    output, seconds, peak, cpu = _child([sys.executable, "-c", code, str(path)])
    return Measure(f"generate {path.name}", int(output.strip()), seconds, peak, cpu, goal=False)


def _shared_data() -> Path:
    return Path(os.environ.get("RRM_SHARED_DATA", REPO.parent / "shared" / "data"))


def _table(measures: list[Measure], baseline: dict[str, dict[str, float]]) -> Table:
    table = Table("run", "posts", "seconds", "posts/s", "x goal 200k/s", "ingest-only posts/s", "x goal",
                  "peak MB", "x goal 1 GB", "rejected", "CPU s", "posts/CPU s",
                  title="Ingest benchmark (goal ratios: posts/s over 200,000; peak over 1 GB). "
                        "ingest-only: the batch's own start-to-finish time, without interpreter start-up")
    if any(m.runs for m in measures):
        table.add_column("runs (s)")
    if baseline:
        table.add_column("posts/s vs baseline")
        table.add_column("ingest-only vs baseline")
        table.add_column("CPU s vs baseline")
    for m in measures:
        row = [
            m.name, f"{m.posts:,}", f"{m.seconds:.1f}", f"{m.rate:,.0f}",
            f"{m.rate / GOAL_POSTS_PER_SECOND:.2f}" if m.goal else "-",
            f"{m.posts / m.ingest_seconds:,.0f}" if m.ingest_seconds else "-",
            f"{m.posts / m.ingest_seconds / GOAL_POSTS_PER_SECOND:.2f}" if m.ingest_seconds else "-",
            f"{m.peak_mb:,.0f}",
            f"{m.peak_mb / GOAL_PEAK_MB:.2f}" if m.goal else "-", f"{m.rejected:,}" if m.goal else "-",
            f"{m.cpu_seconds:.1f}", f"{m.posts / m.cpu_seconds:,.0f}" if m.cpu_seconds else "",
        ]
        if any(x.runs for x in measures):
            row.append(", ".join(f"{r:.1f}" for r in m.runs))
        if baseline:
            before = baseline.get(m.name)
            row.append(f"{m.rate / (before['posts'] / before['seconds']):.2f}x" if before and before["seconds"] else "")
            inside = before.get("ingest_seconds") if before else None
            row.append(f"{before['ingest_seconds'] / m.ingest_seconds:.2f}x faster" if inside and m.ingest_seconds else "")
            row.append(f"{m.cpu_seconds / before['cpu_seconds']:.2f}x" if before and before.get("cpu_seconds") else "")
        table.add_row(*row)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=5_000_000, help="posts in the generated file [5,000,000]")
    parser.add_argument("--accounts", type=int, default=None, help="organic accounts in it [posts / 20]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-generated", action="store_true", help="only the real data set")
    parser.add_argument("--skip-real", action="store_true", help="only the generated file")
    parser.add_argument("--folder", type=Path, default=None, help="where to write the generated file [a temp folder]")
    parser.add_argument("--save", type=Path, default=None, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, default=None, help="compare with figures saved by --save")
    parser.add_argument("--repeat", type=int, default=1, help="ingests of each input; the median run is shown [1]")
    options = parser.parse_args()

    cpus = os.cpu_count() or 1
    console.print(f"{cpus} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    measures: list[Measure] = []
    if not options.skip_real:
        real = _shared_data() / "social" / "coortweet" / "german_elections.csv"
        if real.exists():
            measures.append(ingest_median("coortweet german_elections.csv", real, options.repeat))
            console.print(f"done: {measures[-1].name}")
        else:
            console.print(f"[yellow]skipped[/]: {real} is not here (set RRM_SHARED_DATA)")
    if not options.skip_generated:
        with tempfile.TemporaryDirectory(prefix="bench-generated-", dir=options.folder) as folder:
            path = Path(folder) / f"scenario-{options.posts}.csv"
            accounts = options.accounts or max(1_000, options.posts // 20)
            measures.append(generate(path, options.posts, accounts, options.seed))
            console.print(f"done: {measures[-1].name} ({path.stat().st_size / 1e9:.2f} GB)")
            measures.append(ingest_median(f"generated x-io-archive {options.posts:,}", path, options.repeat))
            console.print(f"done: {measures[-1].name}")
    console.print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    baseline = {}
    if options.baseline is not None:
        baseline = {m["name"]: m for m in json.loads(options.baseline.read_text())["measures"]}
    console.print(_table(measures, baseline))
    if options.save is not None:
        options.save.write_text(json.dumps({"cpus": cpus, "measures": [asdict(m) for m in measures]}, indent=2))


if __name__ == "__main__":
    main()
