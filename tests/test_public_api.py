"""The public API is deliberate: ``rrm.__all__`` lists exactly the public names ``rrm`` exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rrm


def test_all_names_exist() -> None:
    missing = [name for name in rrm.__all__ if not hasattr(rrm, name)]
    assert missing == []


def test_all_is_unique_and_every_lazy_name_is_listed() -> None:
    assert len(rrm.__all__) == len(set(rrm.__all__))
    assert set(rrm._EXPORTS) | {"__version__"} == set(rrm.__all__)


def test_no_unlisted_public_names() -> None:
    public = {name for name in dir(rrm) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(rrm, name)).__name__ == "module"}
    assert public - modules - {"annotations", "TYPE_CHECKING"} <= set(rrm.__all__)


def test_import_is_cheap() -> None:
    code = "import sys, rrm; print(sorted(m for m in ('duckdb', 'pyarrow', 'scipy', 'sqlalchemy') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_notebook_use(tmp_path: Path) -> None:
    csv = tmp_path / "posts.csv"
    csv.write_text(
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
        "1,10,alice,,,hello #World https://Example.com/a?utm_source=x,1606451170,\n"
    )
    store = rrm.CorpusStore(rrm.Workspace.resolve(tmp_path / "ws"))
    report = rrm.ingest(store, [str(csv)])
    assert report.stored == 1
    stats = rrm.corpus_stats(store)
    assert stats.posts == 1
    assert stats.top_hashtags == (("world", 1),)
    assert stats.top_domains == (("example.com", 1),)
    assert rrm.load_disarm().technique("T0049").name
