"""Sharing with partners over open standards: signatures, pseudonymisation (STIX/TAXII/MISP to come)."""

from rrm.share.pseudonymise import Pseudonymiser
from rrm.share.signing import NodeKey, sign_bundle, verify_bundle

__all__ = ["NodeKey", "Pseudonymiser", "sign_bundle", "verify_bundle"]
