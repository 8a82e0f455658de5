"""Domain functions of the registry: the only code that touches its tables.

Every function takes the :class:`~myorisk.registry.access.Principal` acting, checks the access
rules, validates values with the cohort schema (:mod:`myorisk.myositis.cohort`), computes the
instruments with the domain code (EULAR/ACR 2017 criteria, TIS) and the published models'
predictions, and writes everything of one request in one transaction together with its audit
row. Edits never overwrite: a visit edit is a new :class:`VisitVersion`; predictions and outcomes
it replaces are marked superseded. Writes carry an optional idempotency key: repeating a write
with the same key returns the first write's record instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.registry.access import (
    ROLES,
    AccessDenied,
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    Principal,
    RateLimited,
    can_export,
    can_monitor,
    can_read_patients,
    can_write,
)

__all__ = ["Registry", "VISIT_KINDS", "BASELINE_VARIABLES", "FOLLOWUP_VARIABLES"]

VISIT_KINDS = ("baseline", "week12", "later")
_NOT_BASELINE = {"patient_id", "tis_12w", "nonresponse", "refractory", "date_fu",
                 "treatment_response"}
#: Outcome variables a follow-up may record directly (else derived from the TIS).
OUTCOMES = ("nonresponse", "refractory")
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5
SESSION_HOURS = 8


def _variables() -> dict:
    from myorisk.myositis.schema import VARIABLES

    return VARIABLES


def _baseline_names() -> tuple[str, ...]:
    return tuple(n for n in _variables() if not n.endswith("_fu") and n not in _NOT_BASELINE)


def _followup_names() -> tuple[str, ...]:
    return tuple(n for n in _variables() if n.endswith("_fu")) + (
        "date_fu", "tis_12w", "nonresponse", "refractory", "treatment_response")


BASELINE_VARIABLES = _baseline_names()
FOLLOWUP_VARIABLES = _followup_names()


def now() -> datetime:
    """Current UTC time."""
    return datetime.now(UTC)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def published_models() -> tuple[tuple[Any, str, str], ...]:
    """``(spec, version, spec_hash)`` of every bundled published model."""
    from pathlib import Path

    from myorisk.published import __file__ as pub
    from myorisk.published import list_models, load_model

    out = []
    for m in list_models():
        spec = load_model(m["name"])
        raw = (Path(pub).parent / f"{spec.name}.json").read_bytes()
        canon = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
        version = f"{spec.format}; myorisk {spec.software.get('myorisk', '?')}; {spec.status}"
        out.append((spec, version, _hash(canon)))
    return tuple(out)


def model_names() -> list[str]:
    """Names of the published models the registry scores."""
    return [s.name for s, _, _ in published_models()]


# ----------------------------------------------------------------------------- validation
def _typed_row(values: Mapping[str, Any], allowed: Iterable[str], source: str, *,
               strict: bool = True, context: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
    """Check one visit's values with the cohort schema; return them typed (None dropped)."""
    from myorisk.myositis.cohort import _validate

    allowed = set(allowed)
    if not isinstance(values, Mapping):
        raise Invalid([{"field": source, "rule": "must be an object of variable: value pairs"}])
    errors = []
    vals: dict[str, Any] = {}
    for k, v in values.items():
        k = str(k)
        if strict and k not in allowed:
            errors.append({"field": k, "rule": "is not a variable of this visit"})
            continue
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, str | int | float) or (isinstance(v, float) and not np.isfinite(v)):
            errors.append({"field": k, "rule": "must be a number or a short text"})
            continue
        if isinstance(v, str) and len(v) > 128:
            errors.append({"field": k, "rule": "is longer than 128 characters"})
            continue
        vals[k] = v
    if errors:
        raise Invalid(errors)
    ctx = {k: v for k, v in (context or {}).items() if k not in vals}
    frame = pd.DataFrame([{"patient_id": "x", **ctx, **vals}], index=[1], dtype=object)
    typed, report = _validate(frame, source, None)
    errs = [{"field": p.column or source, "rule": p.rule} for p in report.errors
            if p.column in vals or p.column is None or p.column not in ctx]
    if errs:
        raise Invalid(errs)
    row = typed.iloc[0]
    out: dict[str, Any] = {}
    for k in vals:
        v = row[k]
        if isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        out[k] = v
    return out


def _derive_baseline(vals: Mapping[str, Any]) -> dict[str, Any]:
    """EULAR/ACR 2017 criteria when any item is recorded (the domain code, missing items absent)."""
    from myorisk.myositis.criteria import eular_acr_2017
    from myorisk.myositis.schema import CRITERIA_ITEMS

    if "age_onset" not in vals or not any(k in vals for k in CRITERIA_ITEMS):
        return {}
    frame = pd.DataFrame([dict(vals)], index=[1])
    for item in CRITERIA_ITEMS:  # an item not recorded counts as absent (result marked incomplete)
        if item not in frame:
            frame[item] = np.nan
    try:
        res = eular_acr_2017(frame, missing="absent").to_dict()["rows"][0]
    except InputError as e:
        return {"criteria_error": str(e).removeprefix("data: ")}
    keep = ("score", "variant", "probability", "category", "iim", "subgroup", "complete")
    return {"criteria": {k: res[k] for k in keep} | {"biopsy_message": res["biopsy"]["message"]}}


def _enzyme_rule(row: Mapping[str, Any]) -> str | None:
    from myorisk.myositis.schema import ENZYMES

    with_bl = [e for e in ENZYMES if f"{e}_bl" in row and f"{e}_fu" in row]
    if not with_bl and "enzyme_bl" in row and "enzyme_fu" in row:
        return "enzyme"
    if with_bl and all(f"{e}_uln" in row for e in with_bl):
        return "most_abnormal"
    if "ck_bl" in row and "ck_fu" in row:
        return "ck"
    return with_bl[0] if with_bl else None


def compute_tis(baseline: Mapping[str, Any], followup: Mapping[str, Any]) -> dict[str, Any]:
    """TIS of a follow-up against the baseline (the domain code; missing measures allowed)."""
    from myorisk.myositis.tis import MEASURES, total_improvement_score

    row = {**baseline, **followup}
    core = [m for m in MEASURES if m != "enzyme"]
    if not any(f"{m}_fu" in row for m in core):
        return {}
    rule = _enzyme_rule(row)
    frame = pd.DataFrame([row], index=[1])
    for m in core:
        for t in ("bl", "fu"):
            if f"{m}_{t}" not in frame:
                frame[f"{m}_{t}"] = np.nan
    if rule is None:
        frame["enzyme_bl"], frame["enzyme_fu"], rule = np.nan, np.nan, "enzyme"
    try:
        res = total_improvement_score(frame, missing="allow", enzyme=rule).to_dict()["rows"][0]
    except InputError as e:
        return {"tis_error": str(e).removeprefix("data: ")}
    return {"tis": {k: res[k] for k in ("tis", "complete", "category", "response", "nonresponse",
                                         "points", "percent_change", "enzyme_used")}
            | {"enzyme_rule": rule}}


# ----------------------------------------------------------------------------- the registry
@dataclass
class Registry:
    """A registry database opened with :func:`myorisk.registry.db.open_engine`."""

    engine: Any

    @classmethod
    def open(cls, db: str, *, create: bool = False, pool_size: int = 10) -> Registry:
        """Open (``create``: make) the registry at ``db`` and bring its schema to the head."""
        from myorisk.registry.db import open_engine

        reg = cls(open_engine(db, create=create, pool_size=pool_size))
        if create:
            reg._ensure_secret()
        return reg

    def session(self, *, readonly: bool = False) -> Any:
        """An ORM session. ``readonly`` sessions begin a deferred transaction on SQLite (readers
        do not queue behind writers in WAL mode); others take the write lock at BEGIN."""
        from sqlalchemy.orm import Session

        bind = self.engine.execution_options(myorisk_readonly=True) if readonly else self.engine
        return Session(bind, expire_on_commit=False)

    def _audit_read(self, p: Principal, entity: str, entity_id: int | None,
                    site_id: int | None, **detail: Any) -> None:
        """Record a read in its own short write transaction (after the data were read)."""
        with self.session() as s, s.begin():
            self._audit(s, p, "read", entity, entity_id, site_id, **detail)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # ------------------------------------------------------------------ settings, audit
    def _ensure_secret(self) -> None:
        from myorisk.registry.models import Setting

        with self.session() as s, s.begin():
            if s.get(Setting, "pseudonym_key") is None:
                s.add(Setting(key="pseudonym_key", value=secrets.token_hex(32)))

    def _secret(self, s: Any) -> str:
        from myorisk.registry.models import Setting

        row = s.get(Setting, "pseudonym_key")
        if row is None:
            key = secrets.token_hex(32)
            s.add(Setting(key="pseudonym_key", value=key))
            return key
        return row.value

    @staticmethod
    def _audit(s: Any, p: Principal, action: str, entity: str, entity_id: int | None = None,
               site_id: int | None = None, **detail: Any) -> None:
        from myorisk.registry.models import Audit

        s.add(Audit(at=now(), user_id=p.user_id, action=action, entity=entity,
                    entity_id=entity_id, site_id=site_id, detail={"by": p.name, **detail}))

    # ------------------------------------------------------------------ sites and users
    def _site(self, s: Any, code: str, *, create: bool = False) -> Any:
        from sqlalchemy import select

        from myorisk.registry.models import Site

        code = str(code).strip()
        if not code or len(code) > 64:
            raise InputError("a site code must be 1-64 characters")
        site = s.scalars(select(Site).where(Site.code == code)).first()
        if site is None:
            if not create:
                raise NotFound(f"no site '{code}'")
            site = Site(code=code, created_at=now())
            s.add(site)
            s.flush()
        return site

    def add_site(self, code: str) -> int:
        """Create a site (or return the existing one's id)."""
        with self.session() as s, s.begin():
            site = self._site(s, code, create=True)
            self._audit(s, Principal.system(), "create", "site", site.id, site.id)
            return site.id

    def add_user(self, name: str, role: str, password: str, site: str | None = None) -> int:
        """Create a user with an Argon2 password hash. Clinicians need a site."""
        from argon2 import PasswordHasher
        from sqlalchemy import select

        from myorisk.registry.models import User

        name = str(name).strip()
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise InputError("a user name must be 1-64 characters without spaces")
        if role not in ROLES:
            raise InputError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
        if role == "clinician" and not site:
            raise InputError("a clinician needs --site (the site whose patients they see)")
        if len(password) < 8:
            raise InputError("the password must have at least 8 characters")
        with self.session() as s, s.begin():
            if s.scalars(select(User).where(User.name == name)).first() is not None:
                raise InputError(f"user '{name}' exists already")
            site_id = self._site(s, site, create=True).id if site else None
            u = User(name=name, role=role, site_id=site_id, active=True, created_at=now(),
                     password_hash=PasswordHasher().hash(password))
            s.add(u)
            s.flush()
            self._audit(s, Principal.system(), "create", "user", u.id, site_id, role=role)
            return u.id

    def users(self) -> list[dict[str, Any]]:
        """Every user: name, role, site."""
        from sqlalchemy import select

        from myorisk.registry.models import Site, User

        with self.session() as s:
            rows = s.execute(select(User, Site.code).outerjoin(Site, User.site_id == Site.id)
                             .order_by(User.name)).all()
            return [{"name": u.name, "role": u.role, "site": code, "active": u.active}
                    for u, code in rows]

    def _principal(self, s: Any, user: Any) -> Principal:
        from myorisk.registry.models import Site

        code = s.get(Site, user.site_id).code if user.site_id else None
        return Principal(user.id, user.name, user.role, user.site_id, code)

    def issue_token(self, name: str) -> str:
        """A new bearer token for user ``name`` (only its hash is stored)."""
        from sqlalchemy import select

        from myorisk.registry.models import Token, User

        with self.session() as s, s.begin():
            u = s.scalars(select(User).where(User.name == name)).first()
            if u is None:
                raise InputError(f"no user '{name}'; add one with `myorisk registry user add`")
            token = "myo_" + secrets.token_urlsafe(32)
            s.add(Token(user_id=u.id, token_hash=_hash(token), created_at=now(), revoked=False))
            self._audit(s, Principal.system(), "create", "token", u.id, u.site_id)
            return token

    def principal_from_token(self, token: str | None) -> Principal:
        """The principal of a bearer token; :class:`NotAuthenticated` when unknown or revoked."""
        from sqlalchemy import select

        from myorisk.registry.models import Token, User

        if not token or len(token) > 200:
            raise NotAuthenticated("a bearer token is required")
        with self.session() as s:
            row = s.execute(select(Token, User).join(User, Token.user_id == User.id)
                            .where(Token.token_hash == _hash(token))).first()
            if row is None or row[0].revoked or not row[1].active:
                raise NotAuthenticated("unknown or revoked token")
            return self._principal(s, row[1])

    def login(self, name: str, password: str) -> tuple[Principal, str, str]:
        """Check a password; on success open a page session.

        Returns ``(principal, session cookie value, CSRF token)``. After
        ``LOGIN_MAX_FAILURES`` failed attempts for a name within ``LOGIN_WINDOW`` every attempt
        is refused with :class:`RateLimited` until the window has passed.
        """
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError
        from sqlalchemy import func, select

        from myorisk.registry.models import LoginAttempt, User, WebSession

        name = str(name)[:64]
        t = now()
        with self.session() as s, s.begin():
            fails = s.scalar(select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.name == name, LoginAttempt.ok.is_(False),
                LoginAttempt.at > t - LOGIN_WINDOW))
            if fails >= LOGIN_MAX_FAILURES:
                raise RateLimited("too many failed logins: wait 15 minutes")
            u = s.scalars(select(User).where(User.name == name)).first()
            ok = False
            if u is not None and u.active:
                try:
                    ok = PasswordHasher().verify(u.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
            else:  # spend the same time as a real check
                try:
                    PasswordHasher().verify(_DUMMY_HASH(), password)
                except (VerificationError, InvalidHashError):
                    pass
            s.add(LoginAttempt(name=name, at=t, ok=ok))
            if not ok:
                self._audit(s, Principal(None, "anonymous", "none"), "login_failed", "user")
        if not ok:
            raise NotAuthenticated("wrong user name or password")
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.session() as s, s.begin():
            s.add(WebSession(user_id=u.id, session_hash=_hash(cookie), csrf_token=csrf,
                             created_at=t, expires_at=t + timedelta(hours=SESSION_HOURS)))
            p = self._principal(s, u)
            self._audit(s, p, "login", "user", u.id, u.site_id)
        return p, cookie, csrf

    def principal_from_session(self, cookie: str | None) -> tuple[Principal, str]:
        """``(principal, csrf token)`` of a live page session, else :class:`NotAuthenticated`."""
        from sqlalchemy import select

        from myorisk.registry.models import User, WebSession

        if not cookie or len(cookie) > 200:
            raise NotAuthenticated("please sign in")
        with self.session() as s:
            row = s.execute(select(WebSession, User).join(User, WebSession.user_id == User.id)
                            .where(WebSession.session_hash == _hash(cookie))).first()
            if row is None or not row[1].active or _aware(row[0].expires_at) < now():
                raise NotAuthenticated("please sign in")
            return self._principal(s, row[1]), row[0].csrf_token

    def logout(self, cookie: str | None) -> None:
        """End a page session."""
        from sqlalchemy import delete

        from myorisk.registry.models import WebSession

        if cookie:
            with self.session() as s, s.begin():
                s.execute(delete(WebSession).where(WebSession.session_hash == _hash(cookie)))

    # ------------------------------------------------------------------ writes
    def _store_version(self, s: Any, p: Principal, visit: Any, version: int,
                       vals: Mapping[str, Any], derived: dict, reason: str | None) -> Any:
        from myorisk.registry.models import Measurement, VisitVersion

        var = _variables()
        vv = VisitVersion(visit_id=visit.id, version=version, derived=derived, reason=reason,
                          created_at=now(), created_by=p.user_id)
        s.add(vv)
        s.flush()
        for k, v in vals.items():
            unit = var[k].unit if k in var else ""
            if isinstance(v, int | float) and not isinstance(v, bool):
                s.add(Measurement(version_id=vv.id, variable=k, value_num=float(v), value_text=None,
                                  unit=unit))
            else:
                s.add(Measurement(version_id=vv.id, variable=k, value_num=None,
                                  value_text=str(v), unit=unit))
        return vv

    def _predict(self, s: Any, patient_id: int, vv: Any, vals: Mapping[str, Any],
                 source: str) -> list[dict]:
        from myorisk.modeling.spec import predict_one
        from myorisk.registry.models import Prediction

        made = []
        skipped = {}
        t = now()
        for spec, version, digest in published_models():
            inputs = {v.name: vals[v.name] for v in spec.variables if v.name in vals}
            if len(inputs) < len(spec.variables):
                continue
            try:
                res = predict_one(spec, inputs, source="baseline")
            except InputError as e:  # outside the model's valid range: no prediction, said so
                skipped[spec.name] = str(e).removeprefix("baseline: ")
                continue
            s.add(Prediction(patient_id=patient_id, version_id=vv.id, model_name=spec.name,
                             model_version=version, spec_hash=digest,
                             outcome_name=spec.outcome["name"], inputs=inputs,
                             probability=float(res["probability"]),
                             linear_predictor=float(res["linear_predictor"]), computed_at=t,
                             source=source))
            made.append({"model": spec.name, "probability": res["probability"]})
        if skipped:
            vv.derived = {**(vv.derived or {}), "predictions_skipped": skipped}
        return made

    def _record_outcomes(self, s: Any, patient_id: int, vv: Any, vals: Mapping[str, Any],
                         derived: Mapping[str, Any]) -> None:
        from sqlalchemy import select, update

        from myorisk.registry.models import Outcome, Prediction, PredictionOutcome

        found: dict[str, int] = {}
        tis = derived.get("tis") or {}
        if tis.get("nonresponse") is not None:
            found["nonresponse"] = int(tis["nonresponse"])
        for name in OUTCOMES:
            if name in vals:
                found[name] = int(vals[name])
        t = now()
        for name, value in found.items():
            s.execute(update(Outcome).where(Outcome.patient_id == patient_id, Outcome.name == name,
                                            Outcome.superseded_at.is_(None))
                      .values(superseded_at=t))
            o = Outcome(patient_id=patient_id, version_id=vv.id, name=name, value=value,
                        recorded_at=t)
            s.add(o)
            s.flush()
            for pid in s.scalars(select(Prediction.id).where(
                    Prediction.patient_id == patient_id, Prediction.outcome_name == name,
                    Prediction.superseded_at.is_(None))):
                s.add(PredictionOutcome(prediction_id=pid, outcome_id=o.id))

    def _check_outcome_consistency(self, vals: Mapping[str, Any], derived: Mapping[str, Any]
                                   ) -> None:
        tis = derived.get("tis") or {}
        if "nonresponse" in vals and tis.get("nonresponse") is not None \
                and int(vals["nonresponse"]) != int(tis["nonresponse"]):
            raise Invalid([{"field": "nonresponse",
                            "rule": f"contradicts the TIS computed from the core set measures "
                                    f"({tis['tis']:g}: nonresponse = {int(tis['nonresponse'])})"}])

    def create_patient(self, p: Principal, site: str, local_id: str, baseline: Mapping[str, Any],
                       *, idempotency_key: str | None = None, source: str = "entry",
                       strict: bool = True) -> tuple[int, bool]:
        """Enter a patient with the baseline visit; predictions of every published model whose
        predictors are all present are computed and stored.

        Returns
        -------
        (int, bool)
            The patient's id, and whether it was created (False: the idempotency key had been
            used, and the first write's patient is returned).

        Raises
        ------
        AccessDenied, NotFound, Conflict, Invalid
        """
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError

        from myorisk.registry.models import Patient, Visit

        local_id = str(local_id).strip() if local_id is not None else ""
        if not local_id or len(local_id) > 64:
            raise Invalid([{"field": "patient_id", "rule": "must be 1-64 characters"}])
        if idempotency_key is not None and (not idempotency_key or len(idempotency_key) > 128):
            raise Invalid([{"field": "Idempotency-Key", "rule": "must be 1-128 characters"}])
        if p.role not in ("admin", "clinician"):
            raise AccessDenied(f"a {p.role} cannot enter patients")
        vals = _typed_row(baseline, BASELINE_VARIABLES, "baseline", strict=strict)
        derived = _derive_baseline(vals)
        try:
            with self.session() as s, s.begin():
                if idempotency_key is not None:
                    prior = s.scalars(select(Visit).where(
                        Visit.idempotency_key == idempotency_key)).first()
                    if prior is not None:
                        return prior.patient_id, False
                st = self._site(s, site, create=(p.role == "admin"))
                if not can_write(p, st.id):
                    raise AccessDenied("you may enter patients only at your own site")
                if s.scalars(select(Patient.id).where(Patient.site_id == st.id,
                                                      Patient.local_id == local_id)).first():
                    raise Conflict(f"patient '{local_id}' exists already at site '{st.code}'")
                pat = Patient(site_id=st.id, local_id=local_id, source=source, created_at=now(),
                              created_by=p.user_id)
                s.add(pat)
                s.flush()
                v = Visit(patient_id=pat.id, kind="baseline",
                          visit_date=_as_date(vals.get("date_bl")),
                          idempotency_key=idempotency_key, created_at=now(), created_by=p.user_id)
                s.add(v)
                s.flush()
                vv = self._store_version(s, p, v, 1, vals, derived, None)
                self._predict(s, pat.id, vv, vals, source)
                self._audit(s, p, "create", "patient", pat.id, st.id, fields=sorted(vals),
                            source=source)
                return pat.id, True
        except IntegrityError:
            # a concurrent write with the same key or patient won: answer as it did
            with self.session() as s:
                if idempotency_key is not None:
                    prior = s.scalars(select(Visit).where(
                        Visit.idempotency_key == idempotency_key)).first()
                    if prior is not None:
                        return prior.patient_id, False
            raise Conflict(f"patient '{local_id}' exists already at site '{site}'") from None

    def bulk_import(self, p: Principal, site: str, rows: list[tuple[str, dict, dict]],
                    source: str = "import") -> tuple[int, int, int]:
        """Import checked rows ``(local_id, baseline values, follow-up values)`` in ONE
        transaction (all or nothing). Instruments and predictions are computed for the whole
        batch at once with the domain code. A patient already at the site with the same import
        key is skipped (re-running an import adds nothing twice); one entered by hand is a
        :class:`Conflict`. Returns ``(created, already present, follow-ups)``."""
        from sqlalchemy import select

        from myorisk.modeling.spec import predict, predict_one
        from myorisk.registry.models import Patient, Prediction, Visit

        if p.role not in ("admin", "clinician"):
            raise AccessDenied(f"a {p.role} cannot import patients")
        if not rows:
            return 0, 0, 0
        base = pd.DataFrame([b for _, b, _ in rows], index=range(len(rows)))
        derived_b = [_derive_baseline(b) for _, b, _ in rows] if any(
            "age_onset" in b for _, b, _ in rows) else [{} for _ in rows]
        derived_f = [compute_tis(b, f) if f else {} for _, b, f in rows]
        preds: list[list[tuple[Any, str, str, dict, float, float]]] = [[] for _ in rows]
        for spec, version, digest in published_models():
            names = [v.name for v in spec.variables]
            if not all(n in base.columns for n in names):
                continue
            ok = base[names].notna().all(axis=1).to_numpy()
            idx = np.flatnonzero(ok)
            if not idx.size:
                continue
            sub = base.iloc[idx][names]
            try:
                scored = predict(spec, sub, source="import", points=False)
                got = {int(i): (float(scored.loc[i, "probability"]),
                                float(scored.loc[i, "linear_predictor"])) for i in sub.index}
            except InputError:  # some rows outside the model's range: score the others
                got = {}
                for i in sub.index:
                    try:
                        r = predict_one(spec, {n: rows[i][1][n] for n in names})
                        got[int(i)] = (float(r["probability"]), float(r["linear_predictor"]))
                    except InputError as e:
                        derived_b[i] = {**derived_b[i], "predictions_skipped": {
                            **derived_b[i].get("predictions_skipped", {}),
                            spec.name: str(e).removeprefix("patient: ")}}
            for i, (pr, lp) in got.items():
                preds[i].append((spec, version, digest, {n: rows[i][1][n] for n in names}, pr, lp))
        for (_, _, f), d in zip(rows, derived_f, strict=True):
            self._check_outcome_consistency(f, d)
        created = present = fus = 0
        with self.session() as s, s.begin():
            st = self._site(s, site, create=(p.role == "admin"))
            if not can_write(p, st.id):
                raise AccessDenied("you may import patients only at your own site")
            keys = {f"import:{site}:{local}" for local, _, _ in rows}
            done = set(s.scalars(select(Visit.idempotency_key).where(
                Visit.idempotency_key.in_(keys))))
            existing = set(s.scalars(select(Patient.local_id).where(Patient.site_id == st.id)))
            t = now()
            for i, (local, b, f) in enumerate(rows):
                if f"import:{site}:{local}" in done:
                    present += 1
                    continue
                if local in existing:
                    raise Conflict(f"patient_id '{local}' exists already at site '{site}' "
                                   "(entered, not imported)")
                pat = Patient(site_id=st.id, local_id=local, source=source, created_at=t,
                              created_by=p.user_id)
                s.add(pat)
                s.flush()
                v = Visit(patient_id=pat.id, kind="baseline", visit_date=_as_date(b.get("date_bl")),
                          idempotency_key=f"import:{site}:{local}", created_at=t,
                          created_by=p.user_id)
                s.add(v)
                s.flush()
                vv = self._store_version(s, p, v, 1, b, derived_b[i], None)
                for spec, version, digest, inputs, pr, lp in preds[i]:
                    s.add(Prediction(patient_id=pat.id, version_id=vv.id, model_name=spec.name,
                                     model_version=version, spec_hash=digest,
                                     outcome_name=spec.outcome["name"], inputs=inputs,
                                     probability=pr, linear_predictor=lp, computed_at=t,
                                     source=source))
                s.flush()
                created += 1
                if f:
                    fv = Visit(patient_id=pat.id, kind="week12",
                               visit_date=_as_date(f.get("date_fu")),
                               idempotency_key=f"import-fu:{site}:{local}", created_at=t,
                               created_by=p.user_id)
                    s.add(fv)
                    s.flush()
                    fvv = self._store_version(s, p, fv, 1, f, derived_f[i], None)
                    self._record_outcomes(s, pat.id, fvv, f, derived_f[i])
                    fus += 1
            self._audit(s, p, "import", "patients", None, st.id, created=created,
                        already_present=present, followups=fus)
        return created, present, fus

    def _patient_for(self, s: Any, p: Principal, patient_id: int, *, write: bool) -> Any:
        from myorisk.registry.models import Patient

        pat = s.get(Patient, patient_id)
        if pat is None:
            raise NotFound(f"no patient {patient_id}")
        allowed = can_write(p, pat.site_id) if write else can_read_patients(p, pat.site_id)
        if not allowed:
            if p.role == "researcher":
                raise AccessDenied("researchers see pseudonymised exports and monitoring only")
            raise AccessDenied("this patient belongs to another site")
        return pat

    def _current(self, s: Any, visit_id: int) -> tuple[Any, dict[str, Any]]:
        from sqlalchemy import select

        from myorisk.registry.models import Measurement, VisitVersion

        vv = s.scalars(select(VisitVersion).where(VisitVersion.visit_id == visit_id)
                       .order_by(VisitVersion.version.desc()).limit(1)).first()
        vals = {}
        for m in s.scalars(select(Measurement).where(Measurement.version_id == vv.id)
                           .order_by(Measurement.id)):
            vals[m.variable] = m.value_text if m.value_num is None else _num(m.value_num)
        return vv, vals

    def _baseline_visit(self, s: Any, patient_id: int) -> Any:
        from sqlalchemy import select

        from myorisk.registry.models import Visit

        return s.scalars(select(Visit).where(Visit.patient_id == patient_id,
                                             Visit.kind == "baseline")).first()

    def add_visit(self, p: Principal, patient_id: int, kind: str, values: Mapping[str, Any], *,
                  idempotency_key: str | None = None, strict: bool = True) -> tuple[int, bool]:
        """Record a follow-up visit (``week12`` or ``later``); the TIS against the baseline is
        computed, and at week 12 the outcome (non-response = TIS below 20, or a recorded
        ``refractory``) is stored and linked to the patient's predictions.

        Returns ``(visit id, created)``; a repeated idempotency key returns the first visit.
        """
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError

        from myorisk.registry.models import Visit

        if kind not in VISIT_KINDS[1:]:
            raise Invalid([{"field": "kind", "rule": "must be week12 or later"}])
        if idempotency_key is not None and (not idempotency_key or len(idempotency_key) > 128):
            raise Invalid([{"field": "Idempotency-Key", "rule": "must be 1-128 characters"}])
        if p.role not in ("admin", "clinician"):
            raise AccessDenied(f"a {p.role} cannot record visits")

        def prepare(s: Any) -> tuple[Any, int, dict, dict]:
            pat = self._patient_for(s, p, patient_id, write=True)
            bvv, base = self._current(s, self._baseline_visit(s, pat.id).id)
            vals = _typed_row(values, FOLLOWUP_VARIABLES, "visit", strict=strict, context=base)
            derived = compute_tis(base, vals)
            self._check_outcome_consistency(vals, derived)
            return pat, bvv.id, vals, derived

        # checks and instruments outside the write lock (a reader's snapshot) ...
        with self.session(readonly=True) as s, s.begin():
            _, base_version, vals, derived = prepare(s)
        try:
            with self.session() as s, s.begin():
                if idempotency_key is not None:
                    prior = s.scalars(select(Visit).where(
                        Visit.idempotency_key == idempotency_key)).first()
                    if prior is not None:
                        if prior.patient_id != patient_id:
                            raise Conflict("this Idempotency-Key was used for another patient")
                        return prior.id, False
                pat = self._patient_for(s, p, patient_id, write=True)
                # ... redone under the lock only if the baseline changed in between
                if self._current(s, self._baseline_visit(s, pat.id).id)[0].id != base_version:
                    pat, base_version, vals, derived = prepare(s)
                v = Visit(patient_id=pat.id, kind=kind, visit_date=_as_date(vals.get("date_fu")),
                          idempotency_key=idempotency_key, created_at=now(), created_by=p.user_id)
                s.add(v)
                s.flush()
                vv = self._store_version(s, p, v, 1, vals, derived, None)
                if kind == "week12":
                    self._record_outcomes(s, pat.id, vv, vals, derived)
                self._audit(s, p, "create", "visit", v.id, pat.site_id, patient=pat.id, kind=kind,
                            fields=sorted(vals))
                return v.id, True
        except IntegrityError:
            if idempotency_key is not None:
                with self.session() as s:
                    prior = s.scalars(select(Visit).where(
                        Visit.idempotency_key == idempotency_key)).first()
                    if prior is not None:
                        return prior.id, False
            raise

    def edit_visit(self, p: Principal, visit_id: int, values: Mapping[str, Any], reason: str
                   ) -> int:
        """Correct a visit: the given values replace the current ones in a new version (a value
        of null removes it). Predictions (baseline) or outcomes (week 12) are recomputed and the
        old ones marked superseded. Returns the new version number."""
        from sqlalchemy import func, select, update

        from myorisk.registry.models import Prediction, Visit, VisitVersion

        reason = str(reason or "").strip()
        if not reason or len(reason) > 500:
            raise Invalid([{"field": "reason", "rule": "say why the visit is changed (1-500 "
                                                       "characters)"}])
        if p.role not in ("admin", "clinician"):
            raise AccessDenied(f"a {p.role} cannot edit visits")
        with self.session() as s, s.begin():
            v = s.get(Visit, visit_id)
            if v is None:
                raise NotFound(f"no visit {visit_id}")
            pat = self._patient_for(s, p, v.patient_id, write=True)
            _, cur = self._current(s, v.id)
            if not isinstance(values, Mapping):
                raise Invalid([{"field": "values", "rule": "must be an object"}])
            merged = {**cur, **{k: x for k, x in values.items()}}
            merged = {k: x for k, x in merged.items() if x is not None}
            allowed = BASELINE_VARIABLES if v.kind == "baseline" else FOLLOWUP_VARIABLES
            extra = set(cur) - set(allowed)  # imported non-canonical columns stay
            if v.kind == "baseline":
                vals = _typed_row(merged, set(allowed) | extra, "baseline")
                derived = _derive_baseline(vals)
            else:
                _, base = self._current(s, self._baseline_visit(s, pat.id).id)
                vals = _typed_row(merged, set(allowed) | extra, "visit", context=base)
                derived = compute_tis(base, vals)
                self._check_outcome_consistency(vals, derived)
            version = (s.scalar(select(func.max(VisitVersion.version))
                                .where(VisitVersion.visit_id == v.id)) or 0) + 1
            vv = self._store_version(s, p, v, version, vals, derived, reason)
            v.visit_date = _as_date(vals.get("date_bl" if v.kind == "baseline" else "date_fu"))
            if v.kind == "baseline":
                s.execute(update(Prediction).where(Prediction.patient_id == pat.id,
                                                   Prediction.superseded_at.is_(None))
                          .values(superseded_at=now()))
                s.flush()
                self._predict(s, pat.id, vv, vals, "edit")
            elif v.kind == "week12":
                self._record_outcomes(s, pat.id, vv, vals, derived)
            changed = sorted(k for k in set(cur) | set(vals) if cur.get(k) != vals.get(k))
            self._audit(s, p, "update", "visit", v.id, pat.site_id, patient=pat.id,
                        version=version, fields=changed, reason_given=True)
            return version

    # ------------------------------------------------------------------ reads
    def list_patients(self, p: Principal, site: str | None = None) -> list[dict[str, Any]]:
        """Patients the principal may see (clinicians: their site), newest first, with the
        latest TIS and outcomes. Logged in the audit table."""
        from sqlalchemy import select

        from myorisk.registry.models import Outcome, Patient, Site, Visit

        if p.role == "researcher":
            raise AccessDenied("researchers see pseudonymised exports and monitoring only")
        with self.session(readonly=True) as s, s.begin():
            q = select(Patient, Site.code).join(Site, Patient.site_id == Site.id)
            if p.role == "clinician":
                q = q.where(Patient.site_id == p.site_id)
            if site:
                q = q.where(Site.code == site)
            rows = s.execute(q.order_by(Patient.id.desc()).limit(1000)).all()
            ids = [pat.id for pat, _ in rows]
            outs: dict[int, dict[str, int]] = {}
            visits: dict[int, list[str]] = {}
            if ids:
                for o in s.scalars(select(Outcome).where(Outcome.patient_id.in_(ids),
                                                         Outcome.superseded_at.is_(None))):
                    outs.setdefault(o.patient_id, {})[o.name] = o.value
                for v in s.scalars(select(Visit).where(Visit.patient_id.in_(ids))):
                    visits.setdefault(v.patient_id, []).append(v.kind)
        self._audit_read(p, "patient_list", None, p.site_id, count=len(rows))
        return [{"id": pat.id, "site": code, "patient_id": pat.local_id,
                 "created_at": pat.created_at.isoformat(), "source": pat.source,
                     "visits": sorted(visits.get(pat.id, []), key=VISIT_KINDS.index),
                     "outcomes": outs.get(pat.id, {})} for pat, code in rows]

    def get_patient(self, p: Principal, patient_id: int) -> dict[str, Any]:
        """A patient's visits (current values, derived instruments, version count), predictions,
        outcomes and edit history. The read is logged in the audit table."""
        from sqlalchemy import func, select

        from myorisk.registry.models import Outcome, Prediction, Site, User, Visit, VisitVersion

        with self.session(readonly=True) as s, s.begin():
            pat = self._patient_for(s, p, patient_id, write=False)
            site = s.get(Site, pat.site_id).code
            visits = []
            for v in s.scalars(select(Visit).where(Visit.patient_id == pat.id).order_by(Visit.id)):
                vv, vals = self._current(s, v.id)
                n = s.scalar(select(func.count()).select_from(VisitVersion)
                             .where(VisitVersion.visit_id == v.id))
                visits.append({"id": v.id, "kind": v.kind,
                               "date": v.visit_date.isoformat() if v.visit_date else None,
                               "version": vv.version, "versions": n, "values": vals,
                               "derived": vv.derived})
            visits.sort(key=lambda x: (VISIT_KINDS.index(x["kind"]), x["id"]))
            preds = [{"id": r.id, "model": r.model_name, "model_version": r.model_version,
                      "spec_hash": r.spec_hash, "outcome": r.outcome_name,
                      "probability": r.probability, "linear_predictor": r.linear_predictor,
                      "inputs": r.inputs, "computed_at": r.computed_at.isoformat(),
                      "source": r.source, "current": r.superseded_at is None}
                     for r in s.scalars(select(Prediction).where(Prediction.patient_id == pat.id)
                                        .order_by(Prediction.id))]
            outs = [{"name": o.name, "value": o.value, "recorded_at": o.recorded_at.isoformat(),
                     "current": o.superseded_at is None}
                    for o in s.scalars(select(Outcome).where(Outcome.patient_id == pat.id)
                                       .order_by(Outcome.id))]
            hist = []
            for vv, v, who in s.execute(
                    select(VisitVersion, Visit, User.name).join(Visit, VisitVersion.visit_id == Visit.id)
                    .outerjoin(User, VisitVersion.created_by == User.id)
                    .where(Visit.patient_id == pat.id).order_by(VisitVersion.id)):
                hist.append({"visit": v.id, "kind": v.kind, "version": vv.version,
                             "at": vv.created_at.isoformat(), "by": who or "command line",
                             "reason": vv.reason})
        self._audit_read(p, "patient", pat.id, pat.site_id)
        return {"id": pat.id, "site": site, "patient_id": pat.local_id, "source": pat.source,
                "created_at": pat.created_at.isoformat(), "visits": visits,
                "predictions": preds, "outcomes": outs, "history": hist}

    def audit_log(self, p: Principal, limit: int = 200) -> list[dict[str, Any]]:
        """The latest audit rows (admins only)."""
        from sqlalchemy import select

        from myorisk.registry.models import Audit

        if p.role != "admin":
            raise AccessDenied("only admins read the audit trail")
        with self.session() as s:
            return [{"at": a.at.isoformat(), "user_id": a.user_id, "action": a.action,
                     "entity": a.entity, "entity_id": a.entity_id, "site_id": a.site_id,
                     "detail": a.detail}
                    for a in s.scalars(select(Audit).order_by(Audit.id.desc()).limit(limit))]

    # ------------------------------------------------------------------ export and monitoring
    def export_frame(self, p: Principal, *, site: str | None = None,
                     pseudonymise: bool | None = None) -> pd.DataFrame:
        """The registry as a cohort table (one row per patient, canonical columns) that
        ``myorisk check``/``evaluate``/``study`` read: baseline and week-12 values, ``tis_12w``,
        outcomes, and per published model ``prob_<model>`` (the stored prediction).

        Researchers get pseudonyms instead of local IDs and no calendar dates (``fu_days``
        instead). Logged in the audit table.
        """
        from sqlalchemy import select

        from myorisk.registry.models import Outcome, Patient, Prediction, Site, Visit

        allowed, forced = can_export(p)
        if not allowed:  # pragma: no cover - every role may export something
            raise AccessDenied("you may not export")
        pseudo = forced or bool(pseudonymise)
        with self.session() as s, s.begin():
            key = self._secret(s)
        with self.session(readonly=True) as s, s.begin():
            q = select(Patient, Site.code).join(Site, Patient.site_id == Site.id)
            if p.role == "clinician":
                q = q.where(Patient.site_id == p.site_id)
            if site:
                q = q.where(Site.code == site)
            rows = []
            for pat, code in s.execute(q.order_by(Patient.id)).all():
                rec: dict[str, Any] = {"patient_id": pat.local_id, "registry_site": code}
                wk12 = None
                for v in s.scalars(select(Visit).where(Visit.patient_id == pat.id)
                                   .order_by(Visit.id)):
                    if v.kind == "baseline":
                        _, vals = self._current(s, v.id)
                        rec.update(vals)
                    elif v.kind == "week12" and wk12 is None:
                        wk12 = v
                if wk12 is not None:
                    vv, vals = self._current(s, wk12.id)
                    rec.update(vals)
                    tis = (vv.derived or {}).get("tis") or {}
                    if tis.get("tis") is not None and tis.get("complete") and "tis_12w" not in rec:
                        rec["tis_12w"] = tis["tis"]
                for o in s.scalars(select(Outcome).where(Outcome.patient_id == pat.id,
                                                         Outcome.superseded_at.is_(None))):
                    rec[o.name] = o.value
                for pr in s.scalars(select(Prediction).where(Prediction.patient_id == pat.id,
                                                             Prediction.superseded_at.is_(None))):
                    rec[f"prob_{pr.model_name}"] = pr.probability
                if pseudo:
                    rec["patient_id"] = "P-" + hmac.new(key.encode(), f"{code}\x1f{pat.local_id}"
                                                        .encode(), "sha256").hexdigest()[:12]
                    bl, fu = rec.pop("date_bl", None), rec.pop("date_fu", None)
                    if bl and fu:
                        rec["fu_days"] = (date.fromisoformat(fu) - date.fromisoformat(bl)).days
                rows.append(rec)
        with self.session() as s, s.begin():
            self._audit(s, p, "export", "patients", None, p.site_id, count=len(rows),
                        pseudonymised=pseudo)
        frame = pd.DataFrame(rows)
        if frame.empty:
            return pd.DataFrame(columns=["patient_id", "registry_site"])
        var = _variables()
        for c in frame.columns:  # 0/1 columns as integers, not 1.0
            if (c in var and var[c].kind == "binary") or c in ("nonresponse", "refractory"):
                frame[c] = pd.array(frame[c], dtype="Int64")
        names = list(var)
        front = [c for c in names if c in frame.columns]
        rest = [c for c in frame.columns if c not in front]
        return frame[front + rest]

    def monitor(self, p: Principal, model: str, *, site: str | None = None,
                level: float = 0.95) -> dict[str, Any]:
        """Calibration and discrimination of a published model's stored predictions against the
        recorded outcomes (one current prediction and outcome per patient), overall, per site
        and per calendar quarter; the numbers of ``myorisk evaluate --prob prob_<model>`` on the
        export. Aggregates only."""
        from sqlalchemy import select

        from myorisk.modeling.monitoring import monitor_predictions, observed_expected
        from myorisk.registry.models import Outcome, Patient, Prediction, Site, Visit

        if not can_monitor(p):
            raise AccessDenied("you may not see monitoring")
        names = model_names()
        if model not in names:
            raise InputError(f"--model must be one of {', '.join(names)}, not {model!r}")
        with self.session(readonly=True) as s, s.begin():
            q = (select(Prediction, Outcome.value, Site.code, Visit.visit_date)
                 .join(Patient, Prediction.patient_id == Patient.id)
                 .join(Site, Patient.site_id == Site.id)
                 .join(Outcome, (Outcome.patient_id == Prediction.patient_id)
                       & (Outcome.name == Prediction.outcome_name)
                       & Outcome.superseded_at.is_(None))
                 .outerjoin(Visit, (Visit.patient_id == Patient.id) & (Visit.kind == "baseline"))
                 .where(Prediction.model_name == model, Prediction.superseded_at.is_(None)))
            if site:
                q = q.where(Site.code == site)
            if p.role == "clinician":  # clinicians monitor their own site
                q = q.where(Patient.site_id == p.site_id)
            rows = s.execute(q.order_by(Prediction.patient_id)).all()
        with self.session() as s, s.begin():
            self._audit(s, p, "monitor", "model", None, p.site_id, model=model, n=len(rows))
        spec = next(sp for sp, _, _ in published_models() if sp.name == model)
        prob = np.array([r[0].probability for r in rows])
        y = np.array([r[1] for r in rows], float)
        when = [pd.Timestamp(r[3]) if r[3] else pd.Timestamp(_aware(r[0].computed_at).date())
                for r in rows]
        res = monitor_predictions(prob, y, when, level=level)
        out = res.to_dict()
        out = {"model": model, "outcome": spec.outcome["name"], "site": site,
               "notice": spec.notice(), **out}
        sites: dict[str, Any] = {}
        codes = np.array([r[2] for r in rows])
        for code in sorted(set(codes)):
            m = codes == code
            oe = observed_expected(prob[m], y[m], level)
            sites[code] = {"n": int(m.sum()), "events": int(y[m].sum()),
                           "expected": float(prob[m].sum()), "oe": oe.to_dict()}
        out["sites"] = sites
        for d in out["drift"]:  # calendar quarter only: no patient's date in an aggregate
            d["time"] = str(pd.Period(d["time"], freq="Q")) if d["time"] else None
        quarters = pd.PeriodIndex(pd.DatetimeIndex(when), freq="Q").astype(str)
        periods = []
        for q in sorted(set(quarters)):
            m = np.asarray(quarters == q)
            oe = observed_expected(prob[m], y[m], level)
            periods.append({"period": q, "n": int(m.sum()), "events": int(y[m].sum()),
                            "expected": float(prob[m].sum()), "oe": oe.to_dict()})
        out["periods"] = periods
        return out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _as_date(v: Any) -> date | None:
    if v is None:
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else float(x)


@lru_cache(maxsize=1)
def _DUMMY_HASH() -> str:  # noqa: N802 - a constant computed once
    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_hex(16))
