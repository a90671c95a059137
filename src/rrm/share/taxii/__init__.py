"""A TAXII 2.1 node: the object store with keyset paging, partner access by collection and TLP, and the routes."""

from rrm.share.taxii.access import Partner, TaxiiAccess
from rrm.share.taxii.store import TaxiiStore

__all__ = ["Partner", "TaxiiAccess", "TaxiiStore"]
