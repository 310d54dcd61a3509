"""The lotchain HTTP API: a Flask app over one ledger (see :func:`create_app`)."""

from api.app import create_app

__all__ = ["create_app"]
