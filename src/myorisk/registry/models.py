"""SQLAlchemy 2 tables of the registry.

Pseudonymous by construction: a patient is a site-local ID (no name, no birth date). Nothing is
ever updated in place that a person entered: a visit's values live in immutable
:class:`VisitVersion` rows (one per edit, with who/when/why), each holding its
:class:`Measurement` rows; the current values are the highest version. Predictions and outcomes
are append-only too (a superseded one keeps its row, marked by ``superseded_at``). The
:class:`Audit` table records every write and every read of patient data by a person.

The schema is created by the Alembic migrations in ``myorisk/registry/migrations`` (never by
``create_all``); ``tests/test_registry.py`` checks that the migrations and these classes agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Setting", "Site", "User", "Token", "WebSession", "LoginAttempt", "Patient", "Visit",
           "VisitVersion", "Measurement", "Prediction", "Outcome", "PredictionOutcome", "Audit"]


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""


class Setting(Base):
    """Registry-wide settings, e.g. the key of the pseudonyms in researchers' exports."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Site(Base):
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | clinician | researcher
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """An API bearer token: only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A page session (cookie): SHA-256 of the cookie value and the session's CSRF token."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """A login attempt by user name (for rate limiting failed logins); no client address."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("site_id", "local_id", name="uq_patient_site_local"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    local_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # entry | import
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)


class Visit(Base):
    """A visit: ``baseline``, ``week12`` or ``later``; its values are in :class:`VisitVersion`."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    visit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)


class VisitVersion(Base):
    """One immutable version of a visit's values, with the instruments computed from them."""

    __tablename__ = "visit_version"
    __table_args__ = (UniqueConstraint("visit_id", "version", name="uq_visit_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    derived: Mapped[dict] = mapped_column(JSON)  # criteria / TIS results of the domain code
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)


class Measurement(Base):
    """One value of a visit version: canonical variable name, number or text, and unit."""

    __tablename__ = "measurement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("visit_version.id"), index=True)
    variable: Mapped[str] = mapped_column(String(64))
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(String(128), nullable=True)
    unit: Mapped[str] = mapped_column(String(32), default="")


class Prediction(Base):
    """A published model's risk for a patient, with what produced it."""

    __tablename__ = "prediction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("visit_version.id"))
    model_name: Mapped[str] = mapped_column(String(64), index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    spec_hash: Mapped[str] = mapped_column(String(64))
    outcome_name: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(JSON)
    probability: Mapped[float] = mapped_column(Float)
    linear_predictor: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # entry | import | edit
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Outcome(Base):
    """An observed outcome (``nonresponse`` from the week-12 TIS, or ``refractory``)."""

    __tablename__ = "outcome"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("visit_version.id"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PredictionOutcome(Base):
    """Links an outcome to each prediction of that outcome for the same patient."""

    __tablename__ = "prediction_outcome"
    prediction_id: Mapped[int] = mapped_column(ForeignKey("prediction.id"), primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome.id"), primary_key=True)


class Audit(Base):
    """Who did what to which record, and when. Holds no patient value."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    site_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict] = mapped_column(JSON)
