"""Prospective registry: patients scored at baseline by the published models, followed up at 12
weeks (core set measures -> TIS -> response), and the models monitored as outcomes accrue.

Layers: :mod:`.models` (SQLAlchemy tables) and :mod:`.db` (engines, Alembic migrations shipped
in ``migrations/``) under :mod:`.service` (domain functions, the only code that touches the
tables), :mod:`.access` (roles and per-site rules), :mod:`.transfer` (import, export, backup).
The faces (``myorisk registry …`` and the web app) call :class:`.service.Registry` only.
"""
