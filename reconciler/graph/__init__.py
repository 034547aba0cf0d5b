"""The only code that speaks HTTP: session, auth header, paging, retries, error mapping
(``client``), and the WABA calls with their JSON <-> model mapping (``waba``)."""

from .client import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, GraphClient

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_GRAPH_URL", "GraphClient"]
