"""The RRM web application: one FastAPI app serving the TAXII 2.1 routes (the REST API and pages come next)."""

from rrm.web.app import create_app

__all__ = ["create_app"]
