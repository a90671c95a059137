"""The TAXII store below the routes: bulk loading, conflicts in the status, and upgrading an older database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rrm.errors import InputError
from rrm.frameworks.tlp import TLP
from rrm.share.taxii.access import Partner, TaxiiAccess
from rrm.share.taxii.store import Filters, TaxiiStore
from taxii_fixtures import COLLECTION, indicator


def test_bulk_load_pages_like_add_and_refuses_a_known_version(tmp_path: Path) -> None:
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    store.create_collection(COLLECTION, "bulk")
    assert store.bulk_load(COLLECTION, (indicator(n, TLP.GREEN) for n in range(250)), batch=100) == 250
    access = TaxiiAccess(Partner("P", "P", TLP.GREEN), True, False)
    first = store.page(access, COLLECTION, Filters(), 100, None)
    assert first.more and len(first.rows) == 100
    rest = store.page(access, COLLECTION, Filters(added_after=first.rows[-1].date_added), 1000, None)
    assert len(rest.rows) == 150 and rest.rows[0].seq == first.rows[-1].seq + 1
    with pytest.raises(InputError, match="already in the collection"):
        store.bulk_load(COLLECTION, [indicator(3, TLP.GREEN)])


def test_same_version_other_content_is_a_failure_in_the_status(tmp_path: Path) -> None:
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    store.create_collection(COLLECTION, "c")
    original = indicator(1, TLP.GREEN)
    store.add(COLLECTION, [original])
    status = store.add(COLLECTION, [original, {**original, "name": "changed"}])
    assert status["success_count"] == 1 and status["failure_count"] == 1
    assert status["failures"][0]["message"].startswith("conflict")
    assert store.latest_version(COLLECTION, original["id"]) == original


def test_a_database_without_the_origin_column_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    TaxiiStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX ix_taxii_objects_type")
        db.execute("ALTER TABLE taxii_objects DROP COLUMN origin")
    store = TaxiiStore(f"sqlite:///{path}")
    store.create_collection(COLLECTION, "c")
    store.add(COLLECTION, [indicator(1, TLP.GREEN)])
    assert [r.object_id for r in store.outgoing(COLLECTION, Partner("P", "P", TLP.GREEN), 0, 10)] == [
        indicator(1, None)["id"]]



def test_a_partner_id_with_like_wildcards_matches_only_itself(tmp_path: Path) -> None:
    """Recipients are matched with LIKE in SQL: '_' and '%' in a partner id must not act as wildcards."""
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    store.create_collection(COLLECTION, "c")
    store.add(COLLECTION, [indicator(1, TLP.RED, ["DE"]), indicator(2, TLP.AMBER_STRICT, ["D_%"])])

    def names(partner_id: str) -> list[str]:
        access = TaxiiAccess(Partner(partner_id, partner_id, TLP.RED), True, False)
        return [json.loads(r.body)["name"] for r in store.page(access, COLLECTION, Filters(), None, None).rows]

    assert names("DE") == ["Link-farm domain 1"]
    assert names("D_") == [] and names("D%") == [] and names("%") == []
    assert names("D_%") == ["Link-farm domain 2"]
    store.close()
