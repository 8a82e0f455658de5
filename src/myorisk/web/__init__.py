"""Bedside calculator and JSON API for the published models and users' model spec files.

``myorisk serve`` runs :func:`create_app` under uvicorn; see ``docs/web.md``.
"""

from __future__ import annotations

from myorisk.web.app import create_app

__all__ = ["create_app"]
