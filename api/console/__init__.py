"""The web console: server-rendered pages over the API's own queries and access policy."""

from api.console import allegations, dashboard, directory, logpages, pages, screening
from api.console.base import SESSION_CONFIG, bp

__all__ = [
    "SESSION_CONFIG", "allegations", "bp", "dashboard", "directory", "logpages", "pages",
    "screening",
]
