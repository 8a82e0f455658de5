"""Who may do what in the registry.

Roles: ``admin`` (every site, users), ``clinician`` (read and write the patients of their own
site), ``researcher`` (no patient-level access: pseudonymised export and monitoring only).
Every face (API, pages, command line) goes through :mod:`myorisk.registry.service`, which calls
these rules on every request.
"""

from __future__ import annotations

from dataclasses import dataclass

from myorisk.errors import MyoriskError

__all__ = ["ROLES", "Principal", "AccessDenied", "NotAuthenticated", "NotFound", "Conflict",
           "Invalid", "RateLimited", "can_read_patients", "can_write", "can_export", "can_monitor"]

ROLES = ("admin", "clinician", "researcher")


class AccessDenied(MyoriskError):
    """The person is known but not allowed to do this (HTTP 403)."""


class NotAuthenticated(MyoriskError):
    """No valid credentials (HTTP 401)."""


class NotFound(MyoriskError):
    """No such record (HTTP 404)."""


class Conflict(MyoriskError):
    """The record exists already (HTTP 409)."""


class RateLimited(MyoriskError):
    """Too many failed logins (HTTP 429)."""


class Invalid(MyoriskError):
    """Values break the data dictionary's rules (HTTP 422); ``errors`` lists them per field."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['rule']}" for e in errors))


@dataclass(frozen=True)
class Principal:
    """The person behind a request: user id, name, role and (clinicians) site."""

    user_id: int | None
    name: str
    role: str
    site_id: int | None = None
    site_code: str | None = None

    @classmethod
    def system(cls) -> Principal:
        """The command line run by the registry's operator (acts as admin)."""
        return cls(None, "command line", "admin")


def can_write(p: Principal, site_id: int) -> bool:
    """Admins anywhere; clinicians at their own site."""
    return p.role == "admin" or (p.role == "clinician" and p.site_id == site_id)


def can_read_patients(p: Principal, site_id: int) -> bool:
    """Patient-level reads: admins anywhere, clinicians at their own site; researchers never."""
    return can_write(p, site_id)


def can_export(p: Principal) -> tuple[bool, bool]:
    """(allowed, pseudonymised): admins export identifiable data, researchers pseudonymised;
    clinicians export their own site's patients (identifiable)."""
    if p.role == "researcher":
        return True, True
    return True, False


def can_monitor(p: Principal) -> bool:
    """Every role may see monitoring (aggregates only)."""
    return p.role in ROLES
