"""The HTML report: self-contained, escaped, and drawn by a real headless browser."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from rrm.corpus import CorpusStore, ingest
from rrm.detect.report import render_report, timeline_bins, write_report
from test_detect_exports import sample_findings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAYLOAD = "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=alert(1)>"


def _epoch(hour: int, minute: int = 0, second: int = 0) -> int:
    return int(datetime(2024, 3, 1, hour, minute, second, tzinfo=UTC).timestamp())


def _corpus(store: CorpusStore, tmp_path: Path) -> CorpusStore:
    """Posts of the sample's accounts (cnt format), with background posts by others over 12 hours."""
    rows = [
        ["pa1", "a1", "a1", "p0", "", "", _epoch(10, 0, 5), ""],
        ["pa2", "a2", "a2", "p0", "", "", _epoch(10, 0, 20), ""],
        ["pa3", "a3", "a3", "p0", "", "", _epoch(10, 0, 40), ""],
        ["pb1", "b1", "b1", "", "", "Vote early! " + PAYLOAD, _epoch(12, 1), ""],
        ["pb2", "b2", "b2", "", "", "Vote early! " + PAYLOAD, _epoch(12, 1, 30), ""],
    ]
    for i in range(60):
        rows.append([f"bg{i}", f"user{i % 7}", f"user{i % 7}", "", "", f"ordinary post {i}", _epoch(i // 5, i % 5), ""])
    path = tmp_path / "posts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        writer.writerows(rows)
    ingest(store, [str(path)], format_name="cnt")
    return store


def test_report_escapes_adversary_text_and_has_pictures(store: CorpusStore, tmp_path: Path) -> None:
    html = render_report(sample_findings(), _corpus(store, tmp_path))
    assert "<script" not in html.lower()
    assert "&lt;script&gt;document.body.setAttribute" in html
    assert "&lt;script&gt;alert(&#39;explain&#39;)" in html  # the explanation, too
    assert html.count('class="network"') == 1
    assert html.count('class="timeline"') == 2
    assert "abc123" in html and "120" in html and "0.35" in html
    assert "0.4" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from outside


def test_report_without_corpus_still_renders(tmp_path: Path) -> None:
    html = render_report(sample_findings(), None)
    assert "The corpus was not available" in html
    assert 'class="timeline"' not in html


def test_timeline_bins_cover_the_active_span() -> None:
    hours = {datetime(2024, 3, 1, h, tzinfo=UTC): 1 for h in range(24)}
    own = {datetime(2024, 3, 1, 10, tzinfo=UTC): 3}
    width, bins = timeline_bins(hours, own)
    assert width == 1
    assert sum(b.community_posts for b in bins) == 3
    assert bins[0].start < datetime(2024, 3, 1, 10, tzinfo=UTC) < bins[-1].start
    long = {datetime(2024, 1, 1, tzinfo=UTC): 1, datetime(2024, 6, 1, tzinfo=UTC): 1}
    width, bins = timeline_bins(long, long)
    assert width >= 24 and len(bins) <= 250 and sum(b.all_posts for b in bins) == 2


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_report_in_a_real_browser(store: CorpusStore, tmp_path: Path) -> None:
    report = write_report(sample_findings(), tmp_path / "report.html", _corpus(store, tmp_path))
    profile = tmp_path / "profile"
    flags = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [*flags, f"--screenshot={screenshot}", "--window-size=1280,2000", report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    image = Image.open(screenshot).convert("L")
    assert image.size == (1280, 2000)
    assert ImageStat.Stat(image).stddev[0] > 10  # not a blank page
    assert len(image.getcolors(maxcolors=256) or range(257)) > 20

    dom = subprocess.run(
        [*flags, "--dump-dom", report.as_uri()], check=True, capture_output=True, timeout=120, text=True
    ).stdout
    assert "data-pwned" in dom  # the payload is there, as text...
    assert 'data-pwned="1"' not in dom  # ...and it did not run
    assert "&lt;script&gt;document.body.setAttribute" in dom
    assert "<img src=\"x\"" not in dom
