"""The public API is deliberate: ``rrm.__all__`` lists exactly the public names ``rrm`` exports."""

from __future__ import annotations

import rrm


def test_all_names_exist() -> None:
    missing = [name for name in rrm.__all__ if not hasattr(rrm, name)]
    assert missing == []


def test_all_is_sorted_and_unique() -> None:
    assert rrm.__all__ == sorted(set(rrm.__all__), key=rrm.__all__.index)
    assert len(rrm.__all__) == len(set(rrm.__all__))


def test_no_unlisted_public_names() -> None:
    public = {name for name in vars(rrm) if not name.startswith("_") and not isinstance(getattr(rrm, name), type(rrm))}
    assert public - set(rrm.__all__) == set()


def test_notebook_use(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
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
