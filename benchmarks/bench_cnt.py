"""RRM against the coordination-network-toolkit, side by side, and a scale run of the whole pipeline.

    python benchmarks/bench_cnt.py                       # all comparisons, default sizes
    python benchmarks/bench_cnt.py --only reshare,text   # pick parts: reshare, text, near, scale
    python benchmarks/bench_cnt.py --scale-posts 10000000   # the scale goal (minutes; about 2 GB of disk)

1. ``co-reshare`` and exact ``co-text``: one 8-column CSV (the toolkit's format) from a generated
   scenario (``--posts``, default 300,000 and then 1,000,000 posts), given to both tools with the same
   window and minimum weight; RRM's sampling cap is off so both compute every pair. Goal: RRM ≥ 10×
   faster. (At 300,000 posts RRM's co-reshare takes about a tenth of a second, and this virtual
   machine's stalls of 10 to 35 ms move its ratio by a third from run to run; at 1,000,000 posts both
   tools run long enough for the ratio to be the code's.)
   Times are for the network computation, each tool in a fresh process of its own and timed from
   inside it once its modules are imported (toolkit ``compute``; RRM ``detector.edges``); each tool
   runs ``--repeat`` times (default 5), alternating, and the medians are compared. The toolkit's
   whole command, with the start-up, is printed under it. Loading (toolkit ``preprocess``; RRM
   ``ingest``) is printed separately.
2. Near-duplicate text: real sentences (SemEval-2020 task 11 articles, from ../shared/data) copied
   by groups of accounts within the window with small edits (case, punctuation, a word changed,
   mentions, hashtags, links, emoji), among background posts at ``--near-rate`` posts a second
   (default 8, about the density of the 9 million tweets on which the toolkit took over 5 hours);
   recall of the planted account pairs for the toolkit's ``co_similar_tweet`` (word-set Jaccard ≥
   threshold) and RRM's ``co-text`` (MinHash/LSH over character 5-grams, same threshold). The toolkit
   compares every pair of posts in the window with a Python function, so its time grows with the
   density and this runs on ``--near-posts`` (default 20,000) posts. Goal: RRM ≥ 100× faster at equal
   or better recall.
3. Scale: ``--scale-posts`` generated posts (``rrm.demo.scenario.write_posts``), ingested and run
   through the whole pipeline (all detectors, null model, communities) in a child process; wall
   time and the child's peak resident memory. Goal at 10,000,000 posts: under 5 minutes, under 8 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rrm.corpus import CorpusStore, ingest
from rrm.detect.allocator import tune_allocator
from rrm.detect.detectors import get_detector
from rrm.detect.params import DetectionParams
from rrm.workspace import Workspace

CNT_HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]
SHARED = Path(os.environ.get("RRM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SENTENCES = SHARED / "public/semeval2020-task11-propaganda-techniques/datasets/train-articles"


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # user + system seconds, of every thread and waited-for child


_TOOLKIT_RUNNER = """
import json, resource, sys, time
import coordination_network_toolkit.__main__ as cli
out = sys.argv.pop(1)
own = resource.getrusage(resource.RUSAGE_SELF)
started, cpu = time.perf_counter(), own.ru_utime + own.ru_stime
sys.argv[0] = "coordination_network_toolkit"
cli.main()
with open(out, "w") as handle:
    json.dump({"wall": time.perf_counter() - started, "startup_cpu": cpu}, handle)
"""


@dataclass(frozen=True)
class ToolkitRun:
    command: Timing  # the whole command line: interpreter start-up and imports included
    work: Timing  # the command's work alone (its clock starts once its modules are imported)


def toolkit(database: Path, *arguments: str) -> ToolkitRun:
    """Run the toolkit's command line (its worker processes included in the CPU time), timing the
    whole command and its work alone: starting Python and importing the toolkit (networkx, twarc...)
    takes about 0.7 s here, which RRM's clock, started in a running process, does not count."""
    report = database.with_suffix(".timing.json")
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _TOOLKIT_RUNNER, str(report), str(database), *arguments],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"the toolkit failed: {' '.join(arguments)}")
    command = Timing(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
    inside = json.loads(report.read_text())
    report.unlink()
    return ToolkitRun(command, Timing(float(inside["wall"]), command.cpu - float(inside["startup_cpu"])))


def fresh_copy(source: Path, database: Path) -> None:
    """``database`` as ``source`` is, with no journal of an earlier run beside it (SQLite would apply it)."""
    for suffix in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, database)


def toolkit_pairs(database: Path, network: str) -> set[tuple[str, str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute(f"SELECT user_1, user_2 FROM {network}_network WHERE user_1 != user_2").fetchall()
    return {(min(str(a), str(b)), max(str(a), str(b))) for a, b in rows}


_DETECTION_FIELDS = ("window_seconds", "min_co_actions", "near_duplicate_threshold", "max_accounts_per_object")


def rrm_edges(store: CorpusStore, detector: str, params: DetectionParams) -> tuple[Timing, set[tuple[str, str]]]:
    """Run one detector's ``edges`` in a fresh child process, timed from inside it once its modules are
    imported and the detectors loaded: the toolkit's treatment, so that neither tool profits from a
    process warmed up by earlier work."""
    with tempfile.TemporaryDirectory(prefix="rrm-edges-") as scratch:
        report = Path(scratch) / "edges.json"
        settings = json.dumps({name: getattr(params, name) for name in _DETECTION_FIELDS})
        child = subprocess.run(
            [sys.executable, __file__, "--rrm-worker", str(store.workspace.root), detector, settings, str(report)],
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"RRM's {detector} failed (status {child.returncode})")
        found = json.loads(report.read_text())
    return Timing(found["wall"], found["cpu"]), {(a, b) for a, b in found["pairs"]}


def rrm_worker(workspace: Path, detector: str, settings: str, report: Path) -> None:
    """In the child process: one detector's edges, timed once everything is imported and loaded."""
    found = get_detector(detector)  # loading the detectors is importing modules: before the clock, as the toolkit's
    tune_allocator()  # as `rrm detect` runs: large temporaries kept for reuse, not faulted in again
    store = CorpusStore(Workspace.resolve(workspace).ensure())
    params = DetectionParams(**json.loads(settings))
    db = store.connect()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        edges, _ = found.edges(db, params)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        db.close()
    pairs = [
        (a.removeprefix("twitter:"), b.removeprefix("twitter:"))
        for a, b in zip(edges.column("account_a").to_pylist(), edges.column("account_b").to_pylist(), strict=True)
    ]
    report.write_text(json.dumps({"wall": wall, "cpu": cpu, "pairs": pairs}))


def page_reporting() -> str:
    """A warning when this (virtual) machine hands freed memory back to its host: memory touched again
    after that is slow to fault in, which makes runs of a tenth of a second vary (see the sixth pass in
    docs/detection-performance.md)."""
    delay = Path("/sys/module/page_reporting/parameters/min_free_ms")
    try:
        milliseconds = int(delay.read_text().strip())
    except (OSError, ValueError):
        return ""
    return (f"this machine reports freed memory to its host after {milliseconds} ms (free page reporting): "
            "short runs vary with how much of their memory the host has taken back")


def median(runs: list[Timing]) -> Timing:
    return Timing(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def spread(runs: list[Timing]) -> str:
    walls = sorted(r.wall for r in runs)
    return f"{walls[0]:.2f}-{walls[-1]:.2f} s" if len(walls) > 1 else f"{walls[0]:.2f} s"


def rrm_store(folder: Path, data: Path) -> tuple[Timing, CorpusStore]:
    store = CorpusStore(Workspace.resolve(folder).ensure())
    started, cpu = time.perf_counter(), time.process_time()
    ingest(store, [str(data)], format_name="cnt")
    return Timing(time.perf_counter() - started, time.process_time() - cpu), store


def line(name: str, theirs: ToolkitRun, ours: Timing, goal: float, extra: str = "") -> None:
    """The work against the work (the verdict), then the toolkit's whole command against RRM's work."""
    work, command = theirs.work, theirs.command
    ratio = work.wall / ours.wall if ours.wall else float("inf")
    cpu_ratio = work.cpu / ours.cpu if ours.cpu else float("inf")
    verdict = "meets" if ratio >= goal else "MISSES"
    print(
        f"  {name:<20} toolkit {work.wall:8.2f} s ({work.cpu:7.2f} CPU s)   RRM {ours.wall:7.2f} s "
        f"({ours.cpu:6.2f} CPU s)   ratio {ratio:6.1f}x wall, {cpu_ratio:6.1f}x CPU ({verdict} the {goal:g}x goal){extra}"
    )
    print(
        f"  {'':<20} (the toolkit's whole command, start-up included: {command.wall:.2f} s, {command.cpu:.2f} CPU s; "
        f"ratio {command.wall / max(ours.wall, 1e-9):.1f}x wall)"
    )


# --- 1. co-reshare and exact co-text on one generated file ---------------------------------------


def scenario_as_cnt(posts: int, out: Path, seed: int) -> int:
    """A generated scenario (X archive CSV) converted to the toolkit's 8 columns. Beside the default
    campaigns it holds a ``copypasta`` (one message posted word for word within minutes), so that exact
    co-text has pairs to find: the default copy-paste campaign edits its messages."""
    from rrm.demo.scenario import ScenarioConfig, write_posts
    from rrm.demo.world import DEFAULT_CAMPAIGN_KINDS

    archive = out.with_suffix(".archive.csv")
    config = ScenarioConfig(seed=seed, organic_accounts=max(300, posts // 40), posts_target=posts,
                            campaign_kinds=(*DEFAULT_CAMPAIGN_KINDS, "copypasta"))
    write_posts(config, archive)
    written = 0
    with archive.open(newline="", encoding="utf-8") as source, out.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(CNT_HEADER)
        for row in csv.DictReader(source):
            stamp = datetime.strptime(row["tweet_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
            urls = " ".join(u.strip(" []'\"") for u in row["urls"].split(",") if u.strip(" []'\""))
            writer.writerow(
                [row["tweetid"], row["userid"], row["user_screen_name"], row["retweet_tweetid"],
                 row["in_reply_to_tweetid"], row["tweet_text"], int(stamp), urls]
            )
            written += 1
    archive.unlink()
    return written


def bench_exact(
    folder: Path, posts: int, window: int, minimum: int, text_window: int, repeat: int, parts: set[str]
) -> None:
    # with --keep, a second run reuses the files and databases (the name changes with what is generated)
    work = folder / f"exact-{posts}-copypasta"
    database = work / "exact.db"
    if (work / "ready").exists() and (work / "preprocessed.db").exists():
        store = CorpusStore(Workspace.resolve(work / "ws").ensure())
        n = int(store.connect().execute("SELECT count(*) FROM posts").fetchall()[0][0])
        print(f"\n1. co-reshare and exact co-text: {n:,} posts, window {window} s, minimum weight {minimum}")
        print(f"  loading: reusing {work}")
    else:
        work.mkdir(parents=True, exist_ok=True)
        data = work / "exact.csv"
        if not data.exists():
            scenario_as_cnt(posts, data, seed=11)
        database.unlink(missing_ok=True)
        preprocess = toolkit(database, "preprocess", str(data))
        shutil.copyfile(database, work / "preprocessed.db")
        shutil.rmtree(work / "ws", ignore_errors=True)
        ingest_seconds, store = rrm_store(work / "ws", data)
        n = int(store.connect().execute("SELECT count(*) FROM posts").fetchall()[0][0])
        (work / "ready").touch()
        print(f"\n1. co-reshare and exact co-text: {n:,} posts, window {window} s, minimum weight {minimum}")
        print(f"  loading: toolkit preprocess {preprocess.command.wall:.2f} s ({preprocess.command.cpu:.2f} CPU s), "
              f"RRM ingest {ingest_seconds.wall:.2f} s ({ingest_seconds.cpu:.2f} CPU s)")
    params = DetectionParams(
        window_seconds=window, min_co_actions=minimum, near_duplicate_threshold=None, max_accounts_per_object=None
    )
    # the toolkit computes on the database as its preprocess left it (its first compute builds indexes and
    # tables that a second run would find ready), also when --keep reuses the work folder and at each repeat
    networks = (("reshare", "co_retweet", "co-reshare", window), ("text", "co_tweet", "co-text", text_window))
    for network, detector, seconds_window in ((n, d, w) for part, n, d, w in networks if part in parts):
        common = ["--time_window", str(seconds_window), "--min_edge_weight", str(minimum), "--n_cpus", "2"]
        theirs_runs: list[ToolkitRun] = []
        ours_runs: list[Timing] = []
        for _ in range(repeat):  # one after the other, so that a spell of load on the machine falls on both
            fresh_copy(work / "preprocessed.db", database)
            theirs_runs.append(toolkit(database, "compute", network, *common))
            rrm_seconds, pairs = rrm_edges(store, detector, params.with_changes(window_seconds=seconds_window))
            ours_runs.append(rrm_seconds)
        theirs = toolkit_pairs(database, network)
        work_runs = [run.work for run in theirs_runs]
        seconds = ToolkitRun(median([run.command for run in theirs_runs]), median(work_runs))
        line(detector, seconds, median(ours_runs), 10,
             f"; window {seconds_window} s; pairs: toolkit {len(theirs):,}, RRM {len(pairs):,}, both {len(theirs & pairs):,}")
        if repeat > 1:
            ratios = sorted(t.wall / max(o.wall, 1e-9) for t, o in zip(work_runs, ours_runs, strict=True))
            print(f"  {'':<20} medians of {repeat} runs; each run: toolkit {spread(work_runs)}, RRM {spread(ours_runs)}, "
                  f"ratio {ratios[0]:.1f}-{ratios[-1]:.1f}x wall")


# --- 2. near-duplicate text ------------------------------------------------------------------------


def real_sentences() -> list[str]:
    if not SENTENCES.exists():
        raise SystemExit(f"the near-duplicate benchmark needs the shared data set {SENTENCES}")
    out = []
    for article in sorted(SENTENCES.glob("article*.txt")):
        out += [s.strip() for s in article.read_text(encoding="utf-8").splitlines() if 60 <= len(s.strip()) <= 280]
    return out


def _edit(rng: random.Random, text: str) -> str:
    """A small edit a copy-paste campaign makes: different each time, meaning unchanged."""
    words = text.split()
    choice = rng.randrange(6)
    if choice == 0:
        words[rng.randrange(len(words))] = rng.choice(["really", "truly", "now", "again", "today"])
    elif choice == 1:
        words.insert(rng.randrange(len(words) + 1), rng.choice(["#breaking", "#truth", "#news"]))
    elif choice == 2:
        words.append(rng.choice(["https://t.co/" + "".join(rng.choices("abcdefghijk", k=8)), "🔥🔥", "!!!"]))
    elif choice == 3:
        words.insert(0, "@" + "".join(rng.choices("abcdefghijklmnop", k=7)))
    elif choice == 4:
        return text.upper()
    else:
        return text.replace(",", "").replace(".", "!")
    return " ".join(words)


def near_duplicate_set(out: Path, posts: int, window: int, seed: int, rate: float) -> set[tuple[str, str]]:
    """Background posts made of real sentences at ``rate`` posts a second, and groups of 4 accounts
    posting edited copies of one sentence within the window. Returns the planted account pairs.

    The density is what makes the toolkit slow (it compares every pair of posts in the window), so it
    is a parameter: 8 posts a second is about that of the 9 million tweets on which the toolkit's
    co-similarity took over 5 hours. Each background post joins the first half of one real sentence to
    the second half of another, so that there are enough distinct texts for any size and background
    posts are not near-duplicates of each other by construction (both tools see the same texts; the
    pairs they find beyond the planted ones are printed)."""
    rng = random.Random(seed)
    sentences = real_sentences()
    rng.shuffle(sentences)
    span = max(window * 2, int(posts / rate))
    base = 1_700_000_000
    accounts = [f"u{i}" for i in range(max(50, posts // 20))]
    rows: list[list[object]] = []
    truth: set[tuple[str, str]] = set()
    groups = posts // 10 // 4
    copied, background = sentences[:groups], sentences[groups:]
    halves = [s.split() for s in background]
    for i in range(posts - groups * 4):
        first, second = halves[rng.randrange(len(halves))], halves[rng.randrange(len(halves))]
        text = " ".join(first[: len(first) // 2] + second[len(second) // 2 :])
        rows.append([f"b{i}", rng.choice(accounts), "x", "", "", text, base + rng.randrange(span), ""])
    for g in range(groups):
        text = copied[g % len(copied)] if g < len(copied) else f"{g} " + copied[g % len(copied)]
        members = [f"c{g}-{k}" for k in range(4)]
        start = base + rng.randrange(span - window)
        for k, account in enumerate(members):
            rows.append([f"g{g}-{k}", account, account, "", "", _edit(rng, text), start + rng.randrange(window), ""])
        truth |= {(min(a, b), max(a, b)) for a in members for b in members if a < b}
    rows.sort(key=lambda r: int(str(r[6])))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CNT_HEADER)
        writer.writerows(rows)
    return truth


def bench_near(folder: Path, posts: int, window: int, threshold: float, rate: float) -> None:
    data = folder / "near.csv"
    truth = near_duplicate_set(data, posts, window, seed=5, rate=rate)
    database = folder / "near.db"
    toolkit(database, "preprocess", str(data))
    _, store = rrm_store(folder / "ws-near", data)
    print(f"\n2. near-duplicate text: {posts:,} posts ({rate:g} a second), {len(truth):,} planted pairs, "
          f"window {window} s, threshold {threshold}")
    seconds = toolkit(
        database, "compute", "co_similar_tweet", "--time_window", str(window), "--min_edge_weight", "1",
        "--similarity_threshold", str(threshold), "--n_cpus", "2",
    )
    theirs = toolkit_pairs(database, "co_similar_tweet")
    params = DetectionParams(
        window_seconds=window, min_co_actions=1, near_duplicate_threshold=threshold, max_accounts_per_object=None
    )
    rrm_seconds, ours = rrm_edges(store, "co-text", params)

    def recall(found: set[tuple[str, str]]) -> str:
        hits = len(found & truth)
        return f"recall {hits / len(truth):.3f}, {len(found - truth):,} other pairs"

    line("co-text (near-dup)", seconds, rrm_seconds, 100)
    print(f"  {'':<22} toolkit {recall(theirs)};  RRM {recall(ours)}")


# --- 3. scale ------------------------------------------------------------------------------------


def scale_worker(data: Path, workspace: Path) -> None:
    """In the child process: ingest and detect, printing the stage times."""
    from rrm.detect.findings import FindingsStore
    from rrm.detect.pipeline import detect

    store = CorpusStore(Workspace.resolve(workspace).ensure())
    started = time.perf_counter()
    report = ingest(store, [str(data)])
    ingested = time.perf_counter()
    result = detect(store)
    FindingsStore(store.workspace).save(result)
    done = time.perf_counter()
    print(
        f"  ingest {ingested - started:8.1f} s ({report.stored:,} posts)   detect {done - ingested:8.1f} s "
        f"({result.run.significant_edges:,} significant edges, {len(result.run.communities)} communities)",
        flush=True,
    )


def bench_scale(folder: Path, posts: int, data: Path | None = None) -> None:
    from rrm.demo.scenario import ScenarioConfig, write_posts

    if data is None:
        data = folder / "scale.csv.gz"
        started = time.perf_counter()
        written = write_posts(ScenarioConfig(seed=1, organic_accounts=max(300, posts // 40), posts_target=posts), data)
        print(f"\n3. scale: {written:,} generated posts ({time.perf_counter() - started:.0f} s to generate, not counted)")
    else:
        print(f"\n3. scale: the posts of {data} (generated earlier, --scale-data)")
    workspace = folder / "ws-scale"
    if workspace.exists():  # a kept folder's earlier corpus would turn the ingest into a run of duplicates
        shutil.rmtree(workspace)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--scale-worker", str(data), str(workspace)])
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"the scale run failed (status {status})")
    peak_gb = usage.ru_maxrss / 1024 / 1024
    minutes_ok = "meets" if seconds < 300 else "MISSES"
    memory_ok = "meets" if peak_gb < 8 else "MISSES"
    cpu = usage.ru_utime + usage.ru_stime
    print(f"  ingest + detect {seconds:8.1f} s, {cpu:.0f} CPU s ({minutes_ok} the 5-minute goal)   "
          f"peak memory {peak_gb:.2f} GB ({memory_ok} the 8 GB goal)")


def main(argv: Iterator[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="reshare,text,near,scale", help="comma-separated parts to run")
    parser.add_argument("--posts", default="300000,1000000",
                        help="posts for co-reshare and exact co-text: one size, or several separated by commas")
    parser.add_argument("--window", type=int, default=60, help="time window in seconds")
    parser.add_argument("--text-window", type=int, help="time window of the exact co-text comparison (default: --window)")
    parser.add_argument("--min-weight", type=int, default=2, help="minimum edge weight (co-actions)")
    parser.add_argument("--near-posts", type=int, default=20_000, help="posts for the near-duplicate comparison")
    parser.add_argument("--near-rate", type=float, default=8.0, help="posts a second in the near-duplicate set")
    parser.add_argument("--threshold", type=float, default=0.7, help="near-duplicate similarity threshold")
    parser.add_argument("--scale-posts", type=int, default=1_000_000, help="posts for the scale run")
    parser.add_argument("--scale-data", type=Path,
                        help="ingest this file in the scale run instead of generating one (a file the scale run wrote)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each tool for co-reshare and exact co-text, alternating; medians are compared")
    parser.add_argument("--scale-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rrm-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.rrm_worker:
        workspace, detector, settings, report = args.rrm_worker
        rrm_worker(Path(workspace), detector, settings, Path(report))
        return
    if args.scale_worker:
        scale_worker(*args.scale_worker)
        return
    parts = set(args.only.split(","))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-cnt-"))
    folder.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"RRM vs coordination-network-toolkit, {os.cpu_count()} CPUs, load average {load}, work folder {folder}")
    reporting = page_reporting()
    if reporting:
        print(f"  {reporting}")
    try:
        if parts & {"reshare", "text"}:
            for posts in (int(size) for size in args.posts.split(",")):
                bench_exact(
                    folder, posts, args.window, args.min_weight, args.text_window or args.window, args.repeat, parts
                )
        if "near" in parts:
            bench_near(folder, args.near_posts, args.window, args.threshold, args.near_rate)
        if "scale" in parts:
            bench_scale(folder, args.scale_posts, args.scale_data)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(benchmark process peak memory {own:.0f} MB)")


if __name__ == "__main__":
    main()
