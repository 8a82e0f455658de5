"""Routers of the web application: ``api`` (JSON) and ``pages`` (HTML)."""
