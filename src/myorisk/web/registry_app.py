"""The registry's web face: server-rendered pages (session cookie + CSRF) and a JSON API (bearer
tokens), both thin over :class:`myorisk.registry.service.Registry`.

Security: every request is authenticated (401 otherwise) and checked against the access rules
(403); page forms carry the session's CSRF token and a form post without it is refused (403);
session cookies are HttpOnly and SameSite=Strict; failed logins are rate-limited per user name
(429). Privacy: the log holds method, path (ids only) and status; an unexpected error is logged
by type and route only; responses are ``no-store``. Every read of patient data is written to the
audit table by the service layer. Database errors that are not the client's fault answer 503
with ``Retry-After`` (writes are idempotent with an ``Idempotency-Key``, so a client may retry).
"""

from __future__ import annotations

import base64
import io
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from myorisk import __version__
from myorisk.errors import InputError
from myorisk.registry.access import (
    AccessDenied,
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    Principal,
    RateLimited,
)
from myorisk.registry.service import Registry, compute_tis, model_names

__all__ = ["create_registry_app"]

HERE = Path(__file__).parent
COOKIE = "myorisk_session"
PRE = "myorisk_pre"
MAX_BODY = 256 * 1024
_FIG_LOCK = threading.Lock()

# ----------------------------------------------------------------------------- form layout
_BASELINE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient", ("date_bl", "age", "age_onset", "sex", "subtype")),
    ("Predictors of the published models", ("anti_tif1g", "alopecia", "gi_vas", "msuvmax",
                                            "biopsy_done", "biopsy_bundle_atrophy")),
    ("EULAR/ACR 2017 classification criteria", ("weak_prox_upper", "weak_prox_lower",
                                                "neck_flexor_weak", "leg_prox_weaker_distal",
                                                "heliotrope", "gottron_papules", "gottron_sign",
                                                "dysphagia", "anti_jo1", "enzymes_raised")),
    ("Core set measures at baseline", ("pga_bl", "ptga_bl", "mmt8_bl", "haq_bl",
                                        "extramuscular_bl", "ck_bl", "ck_uln")),
)
_FOLLOWUP_FIELDS = ("date_fu", "pga_fu", "ptga_fu", "mmt8_fu", "haq_fu", "extramuscular_fu",
                    "ck_fu", "refractory")
_LABELS = {
    "date_bl": "Date of the baseline visit", "date_fu": "Date of the follow-up visit",
    "age": "Age at diagnosis", "age_onset": "Age at onset of the first symptom", "sex": "Sex",
    "subtype": "Clinical subtype", "anti_tif1g": "Anti-TIF1-γ antibody", "alopecia": "Alopecia",
    "gi_vas": "Gastrointestinal activity VAS (MDAAT)", "msuvmax": "PET/CT mSUVmax",
    "biopsy_done": "Muscle biopsy done", "biopsy_bundle_atrophy": "Biopsy: muscle bundle atrophy",
    "weak_prox_upper": "Weakness of the proximal upper limbs",
    "weak_prox_lower": "Weakness of the proximal lower limbs",
    "neck_flexor_weak": "Neck flexors weaker than extensors",
    "leg_prox_weaker_distal": "Proximal leg muscles weaker than distal",
    "heliotrope": "Heliotrope rash", "gottron_papules": "Gottron's papules",
    "gottron_sign": "Gottron's sign", "dysphagia": "Dysphagia or oesophageal dysmotility",
    "anti_jo1": "Anti-Jo-1 antibody", "enzymes_raised": "Muscle enzymes raised",
    "pga_bl": "Physician global activity (VAS)", "pga_fu": "Physician global activity (VAS)",
    "ptga_bl": "Patient global activity (VAS)", "ptga_fu": "Patient global activity (VAS)",
    "mmt8_bl": "Manual muscle testing (MMT8)", "mmt8_fu": "Manual muscle testing (MMT8)",
    "haq_bl": "HAQ disability index", "haq_fu": "HAQ disability index",
    "extramuscular_bl": "Extramuscular activity (VAS)",
    "extramuscular_fu": "Extramuscular activity (VAS)", "ck_bl": "Creatine kinase (CK)",
    "ck_fu": "Creatine kinase (CK)", "ck_uln": "CK upper limit of normal",
    "refractory": "Refractory disease at this visit",
}


def _field(name: str, values: dict, errors: dict) -> dict[str, Any]:
    from myorisk.myositis.schema import VARIABLES

    v = VARIABLES[name]
    kind = {"number": "number", "binary": "binary", "category": "category", "date": "date"}.get(
        v.kind, "text")
    value = values.get(name, "")
    return {"name": name, "kind": kind, "label": _LABELS.get(name, v.description),
            "unit": v.unit, "range": v.range_text(), "levels": v.levels,
            "min": "" if v.low is None else f"{v.low:g}", "max": "" if v.high is None else f"{v.high:g}",
            "value": "" if value is None else str(value), "error": errors.get(name),
            "description": v.description}


def _form_values(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in names:
        raw = form.get(n)
        if raw is None:
            continue
        raw = str(raw).strip()
        if raw == "":
            continue
        out[n] = raw
    return out


# ----------------------------------------------------------------------------- API bodies
class PatientIn(BaseModel):
    """A new patient with the baseline visit."""

    model_config = ConfigDict(extra="forbid")
    site: str = Field(min_length=1, max_length=64, description="Site code.")
    patient_id: str = Field(min_length=1, max_length=64,
                            description="Site-local pseudonymous ID (never a name).")
    baseline: dict[str, str | float | int | bool | None] = Field(
        default_factory=dict, max_length=200,
        description="Baseline values by canonical variable name (docs/cohort-files.md), e.g. "
                    "age, sex, anti_tif1g, alopecia, gi_vas, msuvmax, pga_bl, ck_bl.")


class VisitIn(BaseModel):
    """A follow-up visit."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["week12", "later"] = "week12"
    values: dict[str, str | float | int | bool | None] = Field(
        default_factory=dict, max_length=200,
        description="Follow-up values by canonical name: pga_fu, ptga_fu, mmt8_fu, haq_fu, "
                    "extramuscular_fu, ck_fu (…_fu), date_fu, refractory.")


class EditIn(BaseModel):
    """A correction of a visit: the values given replace the current ones (null removes)."""

    model_config = ConfigDict(extra="forbid")
    values: dict[str, str | float | int | bool | None] = Field(max_length=200)
    reason: str = Field(min_length=1, max_length=500)


class Created(BaseModel):
    id: int
    created: bool


# ----------------------------------------------------------------------------- the app
def api_principal(request: Request,
                  authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The principal of the request's bearer token (401 without a valid one)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotAuthenticated("send Authorization: Bearer <token>")
    return request.app.state.reg.principal_from_token(authorization[7:].strip())


API = Annotated[Principal, Depends(api_principal)]


class _BodyLimit:
    """Refuse request bodies over ``MAX_BODY`` bytes (413) before they are read."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for k, v in scope.get("headers", []):
                if k == b"content-length":
                    try:
                        too_big = int(v) > MAX_BODY
                    except ValueError:
                        too_big = True
                    if too_big:
                        resp = JSONResponse({"detail": "request body too large"}, status_code=413)
                        await resp(scope, receive, send)
                        return
        await self.app(scope, receive, send)


def create_registry_app(reg: Registry, *, secure_cookies: bool = False) -> FastAPI:
    """Build the registry application over an open :class:`Registry`.

    Pages live under ``/registry/``, the JSON API under ``/api/registry/`` (OpenAPI at
    ``/openapi.json``).
    """
    from sqlalchemy.exc import DBAPIError

    from myorisk.web.app import STATIC_DIR, _Guard

    app = FastAPI(
        title="myorisk registry API", version=__version__, docs_url=None, redoc_url=None,
        description=(
            "Prospective PM/DM registry. Authenticate with `Authorization: Bearer <token>` "
            "(`myorisk registry token NAME`). Roles: admin (every site), clinician (own site), "
            "researcher (monitoring and pseudonymised export only). 401 without a valid token, "
            "403 when the role or site does not allow it, 404 unknown record, 409 duplicate "
            "patient, 422 invalid values (one entry per field), 429 too many failed logins, "
            "503 database busy (retry: writes are idempotent with an `Idempotency-Key` header). "
            "Every read of patient data is recorded in the audit trail."),
    )
    app.state.reg = reg
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["version"] = __version__
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # ------------------------------------------------------------- error mapping
    def _is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(NotAuthenticated)
    async def _401(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/registry/login", status_code=303)

    def _page_error(request: Request, status: int, msg: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": msg}, status_code=status)
        return templates.TemplateResponse(request, "registry/message.html",
                                          {"title": "Not possible", "message": msg,
                                           "user": None}, status_code=status)

    @app.exception_handler(AccessDenied)
    async def _403(request: Request, exc: AccessDenied) -> Response:
        return _page_error(request, 403, str(exc))

    @app.exception_handler(NotFound)
    async def _404(request: Request, exc: NotFound) -> Response:
        return _page_error(request, 404, str(exc))

    @app.exception_handler(Conflict)
    async def _409(request: Request, exc: Conflict) -> Response:
        return _page_error(request, 409, str(exc))

    @app.exception_handler(RateLimited)
    async def _429(request: Request, exc: RateLimited) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "900"})

    @app.exception_handler(Invalid)
    async def _422(request: Request, exc: Invalid) -> Response:
        return JSONResponse({"detail": exc.errors}, status_code=422)

    @app.exception_handler(InputError)
    async def _422b(request: Request, exc: InputError) -> Response:
        return JSONResponse({"detail": [{"field": None, "rule": str(exc)}]}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _422c(request: Request, exc: RequestValidationError) -> Response:
        errs = [{"field": ".".join(str(x) for x in e.get("loc", ())[1:]) or None,
                 "rule": e.get("msg", "invalid")} for e in exc.errors()]
        return JSONResponse({"detail": errs}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def _503(request: Request, exc: DBAPIError) -> Response:
        return JSONResponse({"detail": "the database is busy or unavailable; retry"},
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    # ------------------------------------------------------------- authentication
    def page_principal(request: Request) -> tuple[Principal, str]:
        return reg.principal_from_session(request.cookies.get(COOKIE))

    async def check_csrf(request: Request, csrf: str) -> None:
        form = await request.form()
        sent = str(form.get("csrf", ""))
        if not sent or not secrets.compare_digest(sent, csrf):
            raise AccessDenied("the form's security token is missing or stale: reload the page "
                               "and submit again")

    # ------------------------------------------------------------- JSON API
    api = APIRouter(prefix="/api/registry", tags=["registry"])

    @api.post("/patients", status_code=201, response_model=Created,
              summary="Enter a patient with the baseline visit",
              responses={200: {"description": "Repeated Idempotency-Key: the first patient"}})
    def api_create_patient(body: PatientIn, p: API, response: Response,
                           idempotency_key: Annotated[str | None, Header(max_length=128)] = None
                           ) -> Created:
        pid, created = reg.create_patient(p, body.site, body.patient_id, body.baseline,
                                          idempotency_key=idempotency_key)
        if not created:
            response.status_code = 200
        return Created(id=pid, created=created)

    @api.get("/patients", summary="Patients you may see (clinicians: own site)")
    def api_list(p: API, site: Annotated[str | None, Query(max_length=64)] = None) -> list[dict]:
        return reg.list_patients(p, site)

    @api.get("/patients/{patient_id}", summary="A patient's visits, predictions, outcomes, history")
    def api_get(patient_id: int, p: API) -> dict:
        _check_id(patient_id)
        return reg.get_patient(p, patient_id)

    @api.post("/patients/{patient_id}/visits", status_code=201, response_model=Created,
              summary="Record a follow-up visit (TIS and outcome computed)")
    def api_visit(patient_id: int, body: VisitIn, p: API, response: Response,
                  idempotency_key: Annotated[str | None, Header(max_length=128)] = None) -> Created:
        _check_id(patient_id)
        vid, created = reg.add_visit(p, patient_id, body.kind, body.values,
                                     idempotency_key=idempotency_key)
        if not created:
            response.status_code = 200
        return Created(id=vid, created=created)

    @api.patch("/visits/{visit_id}", summary="Correct a visit (a new version; the old is kept)")
    def api_edit(visit_id: int, body: EditIn, p: API) -> dict:
        _check_id(visit_id)
        return {"version": reg.edit_visit(p, visit_id, body.values, body.reason)}

    @api.get("/monitor", summary="Monitoring of a model: {n, events, oe, citl, slope, c, …}")
    def api_monitor(p: API, model: Annotated[str, Query(max_length=64)],
                    site: Annotated[str | None, Query(max_length=64)] = None) -> dict:
        return reg.monitor(p, model, site=site)

    @api.get("/export", summary="The registry as a cohort CSV (researchers: pseudonymised)",
             response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def api_export(p: API, pseudonymise: bool = False,
                   site: Annotated[str | None, Query(max_length=64)] = None) -> Response:
        frame = reg.export_frame(p, site=site, pseudonymise=pseudonymise)
        return Response(frame.to_csv(index=False), media_type="text/csv")

    @api.get("/audit", summary="The latest audit rows (admins)")
    def api_audit(p: API) -> list[dict]:
        return reg.audit_log(p)

    app.include_router(api)

    # ------------------------------------------------------------- pages
    pages = APIRouter(prefix="/registry", include_in_schema=False)

    def render(request: Request, name: str, ctx: dict, status: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, f"registry/{name}", ctx, status_code=status)

    def set_session(resp: Response, cookie: str) -> None:
        resp.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", secure=secure_cookies,
                        path="/", max_age=8 * 3600)

    @pages.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        pre = secrets.token_urlsafe(24)
        resp = render(request, "login.html", {"title": "Sign in", "user": None, "pre": pre,
                                              "error": None})
        resp.set_cookie(PRE, pre, httponly=True, samesite="strict", secure=secure_cookies,
                        path="/registry", max_age=3600)
        return resp

    @pages.post("/login", response_model=None)
    def login(request: Request, name: Annotated[str, Form(max_length=64)],
              password: Annotated[str, Form(max_length=256)],
              csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
        pre = request.cookies.get(PRE) or ""
        if not pre or not secrets.compare_digest(pre, csrf):
            raise AccessDenied("the sign-in form's security token is missing or stale: reload "
                               "the page")
        try:
            _, cookie, _ = reg.login(name, password)
        except (NotAuthenticated, RateLimited) as e:
            status = 429 if isinstance(e, RateLimited) else 401
            new = secrets.token_urlsafe(24)
            resp = render(request, "login.html", {"title": "Sign in", "user": None, "pre": new,
                                                  "error": str(e)}, status)
            resp.set_cookie(PRE, new, httponly=True, samesite="strict", secure=secure_cookies,
                            path="/registry", max_age=3600)
            return resp
        resp = RedirectResponse("/registry/", status_code=303)
        set_session(resp, cookie)
        resp.delete_cookie(PRE, path="/registry")
        return resp

    @pages.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        p, csrf = page_principal(request)
        await check_csrf(request, csrf)
        reg.logout(request.cookies.get(COOKIE))
        resp = RedirectResponse("/registry/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        p, csrf = page_principal(request)
        patients = [] if p.role == "researcher" else reg.list_patients(p)
        return render(request, "patients.html", {"title": "Patients", "user": p, "csrf": csrf,
                                                 "patients": patients, "models": model_names()})

    def baseline_form(request: Request, p: Principal, csrf: str, values: dict, errors: dict,
                      status: int = 200, site: str = "", local: str = "") -> HTMLResponse:
        groups = [(title, [_field(n, values, errors) for n in names])
                  for title, names in _BASELINE_GROUPS]
        return render(request, "baseline.html", {
            "title": "New patient", "user": p, "csrf": csrf, "groups": groups, "errors": errors,
            "site": site or (p.site_code or ""), "local": local, "idem": secrets.token_urlsafe(18),
            "site_fixed": p.role == "clinician"}, status)

    @pages.get("/patients/new", response_class=HTMLResponse)
    def new_patient(request: Request) -> HTMLResponse:
        p, csrf = page_principal(request)
        if p.role not in ("admin", "clinician"):
            raise AccessDenied("researchers cannot enter patients")
        return baseline_form(request, p, csrf, {}, {})

    @pages.post("/patients/new", response_model=None)
    async def create_patient(request: Request) -> Response:
        p, csrf = page_principal(request)
        await check_csrf(request, csrf)
        form = await request.form()
        names = tuple(n for _, ns in _BASELINE_GROUPS for n in ns)
        values = _form_values(form, names)
        site = p.site_code if p.role == "clinician" else str(form.get("site", "")).strip()
        local = str(form.get("patient_id", "")).strip()
        key = str(form.get("idempotency_key", ""))[:128] or None
        try:
            pid, _ = reg.create_patient(p, site or "", local, values, idempotency_key=key)
        except Invalid as e:
            errors = {x["field"]: x["rule"] for x in e.errors}
            return baseline_form(request, p, csrf, values, errors, 422, site, local)
        except Conflict as e:
            return baseline_form(request, p, csrf, values, {"patient_id": str(e)}, 409, site,
                                 local)
        except NotFound:
            return baseline_form(request, p, csrf, values, {"site": f"no site '{site}'"}, 422,
                                 site, local)
        return RedirectResponse(f"/registry/patients/{pid}", status_code=303)

    @pages.get("/patients/{patient_id}", response_class=HTMLResponse)
    def timeline(request: Request, patient_id: int) -> HTMLResponse:
        p, csrf = page_principal(request)
        _check_id(patient_id)
        rec = reg.get_patient(p, patient_id)
        return render(request, "timeline.html", {"title": f"Patient {rec['patient_id']}",
                                                 "user": p, "csrf": csrf, "rec": rec,
                                                 "labels": _LABELS})

    def followup_form(request: Request, p: Principal, csrf: str, rec: dict, values: dict,
                      errors: dict, status: int = 200) -> HTMLResponse:
        fields = [_field(n, values, errors) for n in _FOLLOWUP_FIELDS]
        base = rec["visits"][0]["values"]
        preview = compute_tis(base, {k: v for k, v in values.items() if k in _FOLLOWUP_FIELDS}) \
            if values else {}
        return render(request, "followup.html", {
            "title": f"Week-12 follow-up of {rec['patient_id']}", "user": p, "csrf": csrf,
            "rec": rec, "fields": fields, "errors": errors, "base": base, "labels": _LABELS,
            "idem": secrets.token_urlsafe(18),
            "tis": preview.get("tis")}, status)

    @pages.get("/patients/{patient_id}/followup", response_class=HTMLResponse)
    def followup_page(request: Request, patient_id: int) -> HTMLResponse:
        p, csrf = page_principal(request)
        _check_id(patient_id)
        rec = reg.get_patient(p, patient_id)
        return followup_form(request, p, csrf, rec, {}, {})

    @pages.post("/patients/{patient_id}/followup", response_model=None)
    async def followup(request: Request, patient_id: int) -> Response:
        p, csrf = page_principal(request)
        await check_csrf(request, csrf)
        _check_id(patient_id)
        form = await request.form()
        values = _form_values(form, _FOLLOWUP_FIELDS)
        key = str(form.get("idempotency_key", ""))[:128] or None
        try:
            reg.add_visit(p, patient_id, "week12", values, idempotency_key=key)
        except Invalid as e:
            rec = reg.get_patient(p, patient_id)
            return followup_form(request, p, csrf, rec, values,
                                 {x["field"]: x["rule"] for x in e.errors}, 422)
        return RedirectResponse(f"/registry/patients/{patient_id}", status_code=303)

    @pages.post("/patients/{patient_id}/tis")
    async def tis_preview(request: Request, patient_id: int) -> JSONResponse:
        """Live TIS for the follow-up form (the domain code; nothing stored)."""
        p, csrf = page_principal(request)
        sent = request.headers.get("x-csrf-token", "")
        if not sent or not secrets.compare_digest(sent, csrf):
            raise AccessDenied("missing security token")
        _check_id(patient_id)
        rec = reg.get_patient(p, patient_id)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"tis": None}, status_code=422)
        values = {k: v for k, v in body.items() if k in _FOLLOWUP_FIELDS and v not in ("", None)}
        from myorisk.registry.service import FOLLOWUP_VARIABLES, _typed_row

        try:
            typed = _typed_row(values, FOLLOWUP_VARIABLES, "visit",
                               context=rec["visits"][0]["values"])
        except Invalid as e:
            return JSONResponse({"tis": None, "errors": e.errors})
        return JSONResponse(compute_tis(rec["visits"][0]["values"], typed))

    @pages.get("/monitor", response_class=HTMLResponse)
    def monitor_page(request: Request,
                     model: Annotated[str | None, Query(max_length=64)] = None,
                     site: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
        p, csrf = page_principal(request)
        names = model_names()
        model = model if model in names else "redmi"
        res, problem, figure = None, None, None
        try:
            res = reg.monitor(p, model, site=site or None)
        except InputError as e:
            problem = str(e).removeprefix("monitor: ")
        if res is not None:
            figure = {w: _svg_figure(res, w) for w in ("calibration", "drift")}
        return render(request, "monitor.html", {"title": "Monitoring", "user": p, "csrf": csrf,
                                                "models": names, "model": model, "res": res,
                                                "problem": problem, "figure": figure,
                                                "site": site or ""})

    @pages.get("", include_in_schema=False)
    def root_redirect() -> RedirectResponse:
        return RedirectResponse("/registry/", status_code=307)

    app.include_router(pages)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/registry/", status_code=307)

    app.add_middleware(_Guard)
    app.add_middleware(_BodyLimit)
    return app


def _check_id(i: int) -> None:
    if not 0 < i < 2**31:
        raise NotFound(f"no record {i}")


def _svg_figure(res: dict, which: str) -> str:
    """A monitoring chart as an SVG data URL (figures.monitor_plot; no script, works offline)."""
    import matplotlib.pyplot as plt

    from myorisk.report.figures import monitor_plot

    with _FIG_LOCK:  # pyplot's figure registry is not thread-safe; requests run in threads
        fig = monitor_plot(res, which=which)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
