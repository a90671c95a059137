"""Where ``rrm detect`` spends its time and memory on a large generated corpus, stage by stage.

    python benchmarks/bench_detect_scale.py --posts 1000000                 # generate, ingest, detect
    python benchmarks/bench_detect_scale.py --workspace /tmp/ws             # reuse an ingested workspace
    python benchmarks/bench_detect_scale.py --posts 1000000 --keep /tmp/s   # keep the workspace for reruns
    python benchmarks/bench_detect_scale.py --workspace /tmp/ws --detectors co-text,sync-activity --shuffles 5

The corpus is ``rrm.demo.scenario.write_posts`` (seed 1, ``posts / 40`` organic accounts, 7 days), ingested
with ``rrm.corpus.ingest``; generation and ingest are timed and printed but not part of the goal. The
pipeline (``rrm.detect.detect``: every detector's co-actions, its null model, then communities) runs
in this process, and each stage prints its wall time, CPU seconds (all threads) and the peak resident
memory so far. The goal of the issue: the whole pipeline on 10,000,000 posts in under 5 minutes and
under 8 GB; the last line compares the total with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rrm.corpus import CorpusStore, ingest
from rrm.detect import DetectionParams, detect
from rrm.workspace import Workspace


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def prepare(posts: int, folder: Path) -> CorpusStore:
    from rrm.demo.scenario import ScenarioConfig, write_posts

    data = folder / "posts.csv.gz"
    started = time.perf_counter()
    written = write_posts(ScenarioConfig(seed=1, organic_accounts=max(300, posts // 40), posts_target=posts), data)
    print(f"generate {written:,} posts      {time.perf_counter() - started:8.1f} s (not counted)")
    store = CorpusStore(Workspace.resolve(folder / "ws").ensure())
    started = time.perf_counter()
    ingest(store, [str(data)])
    data.unlink()
    print(f"ingest                         {time.perf_counter() - started:8.1f} s (not counted)")
    return store


def run(store: CorpusStore, params: DetectionParams, detectors: list[str] | None) -> tuple[int, float]:
    posts = int(store.connect().execute("SELECT count(*) FROM posts").fetchall()[0][0])
    print(f"\ndetect on {posts:,} posts, {params.null_shuffles} shuffles, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  {'stage':<34} {'wall s':>8} {'CPU s':>8} {'peak GB':>8}")
    clock = [time.perf_counter(), time.process_time()]
    current = [""]

    def progress(stage: str, done: int, total: int) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if current[0]:
            print(f"  {current[0]:<34} {now - clock[0]:8.1f} {cpu - clock[1]:8.1f} {peak_gb():8.2f}", flush=True)
        clock[:] = [now, cpu]
        current[0] = stage

    started, cpu = time.perf_counter(), time.process_time()
    result = detect(store, params, detectors, progress=progress)
    seconds = time.perf_counter() - started
    print(f"  {'total':<34} {seconds:8.1f} {time.process_time() - cpu:8.1f} {peak_gb():8.2f}")
    print(f"  {result.run.significant_edges:,} significant edges, {len(result.run.communities)} communities")
    return posts, seconds


def main(argv: Iterator[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000, help="generated posts (ignored with --workspace)")
    parser.add_argument("--workspace", type=Path, help="an ingested workspace to reuse")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--detectors", help="comma-separated detectors (default: all)")
    parser.add_argument("--shuffles", type=int, default=DetectionParams().null_shuffles, help="null shuffles")
    args = parser.parse_args(list(argv) if argv is not None else None)
    folder = None
    if args.workspace:
        store = CorpusStore(Workspace.resolve(args.workspace).ensure())
    else:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
        folder.mkdir(parents=True, exist_ok=True)
        store = prepare(args.posts, folder)
    try:
        posts, seconds = run(store, DetectionParams(null_shuffles=args.shuffles),
                      args.detectors.split(",") if args.detectors else None)
    finally:
        if folder is not None and args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    verdict = "within" if seconds < 300 and peak_gb() < 8 else "OUTSIDE"
    print(f"\n{posts:,} posts: {seconds:.0f} s and {peak_gb():.2f} GB peak, {verdict} the bounds of the goal "
          f"(10,000,000 posts in < 300 s and < 8 GB)")
    if posts < 10_000_000:
        print(f"linear extrapolation to 10,000,000 posts: {seconds * 10_000_000 / posts:.0f} s "
              f"(the costs grow about linearly in posts; memory less than linearly)")


if __name__ == "__main__":
    main()
