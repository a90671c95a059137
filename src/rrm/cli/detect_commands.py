"""``rrm detect``, ``rrm findings`` and ``rrm explain``: coordinated behaviour, found and explained."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rrm.cli.options import JsonOption, WorkspaceOption, console, err_console, print_json, workspace_of
from rrm.corpus import CorpusStore
from rrm.detect import DetectionParams, FindingsStore, detect, explain_edge
from rrm.detect.model import DetectionRun
from rrm.errors import InputError

__all__ = ["register"]


def _run_table(run: DetectionRun) -> Table:
    table = Table("community", "accounts", "score", "behaviours", "density", "median gap (s)", "new accounts",
                  title=f"Communities of run {run.run_id}")
    for c in run.communities:
        behaviours = ", ".join(f"{escape(k)} ({v})" for k, v in c.behaviours.items())
        table.add_row(c.community_id, str(len(c.accounts)), f"{c.score:.1f}", behaviours, f"{c.parts['density']:.0%}",
                      f"{c.parts['median_gap_seconds']:.1f}", f"{c.parts['new_accounts']:.0%}")
    return table


def detect_command(
    detector: Annotated[list[str] | None, typer.Option("--detector", "-d", help="Detector to run; repeat. All by default.")] = None,
    window: Annotated[int, typer.Option("--window", help="Sliding window Δt in seconds.", min=1)] = DetectionParams.window_seconds,
    min_co_actions: Annotated[int, typer.Option("--min-co-actions", help="Minimum distinct objects per edge.", min=1)] = (
        DetectionParams.min_co_actions
    ),
    fdr: Annotated[float, typer.Option("--fdr", help="False discovery rate (Benjamini–Hochberg).")] = DetectionParams.fdr_q,
    shuffles: Annotated[int, typer.Option("--shuffles", help="Shuffled corpora in the null model.", min=1)] = (
        DetectionParams.null_shuffles
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of shuffles, hashing and Leiden.")] = DetectionParams.seed,
    near_duplicates: Annotated[
        float, typer.Option("--near-duplicates", help="Near-duplicate text threshold (Jaccard); 0 for exact text only.")
    ] = 0.7,
    link_level: Annotated[str, typer.Option("--link-level", help="co-link on 'url' or 'domain'.")] = "url",
    resolution: Annotated[float, typer.Option("--resolution", help="Leiden resolution.")] = DetectionParams.resolution,
    stability: Annotated[
        int, typer.Option("--stability", help="Stability selection: rerun on this many subsamples of the posts (0: off).", min=0)
    ] = DetectionParams.stability_subsamples,
    stability_fraction: Annotated[
        float, typer.Option("--stability-fraction", help="Share of the posts in each stability subsample.")
    ] = DetectionParams.stability_fraction,
    stability_threshold: Annotated[
        float, typer.Option("--stability-threshold", help="Share of subsamples an account or edge must be selected in.")
    ] = DetectionParams.stability_threshold,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find accounts that act together: co-action edges, tested against a null model, fused into communities."""
    if link_level not in {"url", "domain"}:
        raise InputError(f"--link-level takes 'url' or 'domain', got {link_level!r}", field="link_level")
    params = DetectionParams(
        window_seconds=window, min_co_actions=min_co_actions, fdr_q=fdr, null_shuffles=shuffles, seed=seed,
        near_duplicate_threshold=near_duplicates or None, link_level="domain" if link_level == "domain" else "url",
        resolution=resolution, stability_subsamples=stability, stability_fraction=stability_fraction,
        stability_threshold=stability_threshold,
    )
    ws = workspace_of(workspace)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console,
                  transient=True, disable=as_json) as bar:
        task = bar.add_task("detecting", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=escape(stage), completed=done, total=total)

        result = detect(CorpusStore(ws), params, detector or None, progress=progress)
    folder = FindingsStore(ws).save(result)
    run = result.run
    if as_json:
        print_json({"run": run, "folder": folder})
        return
    console.print(f"Run [bold]{run.run_id}[/] on corpus version {run.corpus_version}: {run.edges:,} edges tested, "
                  f"[bold]{run.significant_edges:,}[/] significant (about {run.expected_false_edges:.1f} expected "
                  f"in a corpus without coordination), {len(run.communities)} communities.")
    behaviours = Table("behaviour", "edges", "significant", "null edges", "expected false", "null model")
    for r in run.null_model:
        behaviours.add_row(r.behaviour, f"{r.edges:,}", f"{r.significant_edges:,}", f"{r.null_edges_mean:.1f}",
                           f"{r.expected_false_edges:.2f}", r.null_model)
    console.print(behaviours)
    if run.stability is not None:
        st = run.stability
        console.print(f"Stability selection: {st.subsamples} subsamples of {st.fraction:.0%} of the posts; "
                      f"{st.selected_accounts:,} accounts and {st.selected_edges:,} edges selected in at least "
                      f"{st.threshold:.0%} of them ({len(st.account_frequency):,} accounts flagged at least once).")
    console.print(_run_table(run))
    console.print(f"Saved to {escape(str(folder))}. Explain a community with [bold]rrm explain COMMUNITY_ID[/].")


def findings_command(
    run_id: Annotated[str | None, typer.Option("--run", help="Run id; the latest by default.")] = None,
    list_runs: Annotated[bool, typer.Option("--runs", help="List the stored runs instead.")] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """The communities of the latest (or a given) detection run, with their scores."""
    store = FindingsStore(workspace_of(workspace))
    if list_runs:
        runs = store.runs()
        if as_json:
            print_json([{k: v for k, v in vars(r).items() if k != "communities"} for r in runs])
            return
        table = Table("run", "created", "corpus", "detectors", "edges", "significant", "communities")
        for r in runs:
            table.add_row(r.run_id, f"{r.created_at:%Y-%m-%d %H:%M:%S}", r.corpus_version, ", ".join(r.detectors),
                          f"{r.edges:,}", f"{r.significant_edges:,}", str(len(r.communities)))
        console.print(table)
        return
    run = store.load(run_id).run
    if as_json:
        print_json(run)
        return
    console.print(_run_table(run))


def explain_command(
    community_id: Annotated[str | None, typer.Argument(help="Community id, as listed by 'rrm findings'.")] = None,
    edge: Annotated[
        tuple[str, str] | None, typer.Option("--edge", help="Two accounts (platform:account_id) instead of a community.")
    ] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id; the latest by default.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a community (or the edge between two accounts) is flagged: behaviours, evidence posts, null-model figures."""
    ws = workspace_of(workspace)
    findings = FindingsStore(ws)
    if edge is not None:
        explained = explain_edge(CorpusStore(ws), findings.load(run_id), edge[0], edge[1])
        if as_json:
            print_json(explained)
            return
        console.print(f"[bold]{escape(explained.account_a)}[/] and [bold]{escape(explained.account_b)}[/] "
                      f"(communities {explained.community_a or '-'} / {explained.community_b or '-'})")
        console.print(escape(explained.explanation))
        posts = explained.evidence
    elif community_id is not None:
        community = findings.community(run_id, community_id)
        if as_json:
            print_json(community)
            return
        console.print(f"[bold]{community.community_id}[/]: {len(community.accounts)} accounts, score {community.score:.1f}")
        parts = ", ".join(f"{k} {v:.2f}" for k, v in community.parts.items())
        console.print(f"Parts: {parts}")
        console.print(escape(community.explanation))
        run = findings.run(run_id)
        if run.stability is not None:
            shares = run.stability.account_frequency
            console.print("Accounts (share of stability subsamples flagged): "
                          + escape(", ".join(f"{a} ({shares.get(a, 0.0):.0%})" for a in community.accounts)))
        else:
            console.print("Accounts: " + escape(", ".join(community.accounts)))
        posts = community.evidence
    else:
        raise InputError("name a community, or two accounts with --edge", field="community_id")
    table = Table("time (UTC)", "account", "behaviour", "post", "text", title="Evidence")
    for p in posts:
        table.add_row(f"{p.time:%Y-%m-%d %H:%M:%S}", escape(p.account), p.behaviour, escape(p.post_id),
                      escape((p.text or "")[:140]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_command)
    app.command("findings")(findings_command)
    app.command("explain")(explain_command)
