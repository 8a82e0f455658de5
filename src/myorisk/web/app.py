"""The bedside calculator and JSON API (FastAPI).

``create_app()`` builds the application: the bundled published models plus any model spec files
in ``models_dir``; one calculator page, one batch page and one predict endpoint per model.

Privacy: nothing about patients is stored or logged. Inputs travel only in POST bodies (the form
and the API), results are rendered into the response and forgotten; responses carry
``Cache-Control: no-store``; an unexpected error is logged by its type and route only, never with
its message (which could hold a value). :func:`access_log_config` gives uvicorn an access log
without client addresses or query strings.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myorisk import __version__
from myorisk.web.registry import ModelEntry, load_models
from myorisk.web.scoring import RecordsInvalid

__all__ = ["create_app", "access_log_config", "STATIC_DIR", "TEMPLATE_DIR"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
log = logging.getLogger("myorisk.web")

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class _Guard:
    """Outermost ASGI middleware: security/privacy headers, and a 500 that logs no values.

    An exception escaping a route is answered with a generic 500 and logged as
    ``"<ExceptionType> in <METHOD> <route path>"``: no message, no traceback, no query string,
    because exception texts can quote input values.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                static = str(scope.get("path", "")).startswith("/static/")
                extra = {
                    b"cache-control": b"max-age=3600" if static else b"no-store",
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"content-security-policy": _CSP.encode(),
                    b"x-frame-options": b"DENY",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        except Exception as exc:  # noqa: BLE001 - last line of defence, see class docstring
            log.error("%s in %s %s", type(exc).__name__, scope.get("method", ""),
                      scope.get("path", ""))
            if started:  # pragma: no cover - the response was already under way
                raise RuntimeError("response aborted") from None
            resp = JSONResponse({"detail": "internal error (logged without input values)"},
                                status_code=500)
            await resp(scope, receive, send_wrapped)


def _openapi(app: FastAPI, models: dict[str, ModelEntry]) -> dict[str, Any]:
    """OpenAPI document with one input schema per model (components/schemas)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for entry in models.values():
        schema = entry.input_model.model_json_schema(
            ref_template="#/components/schemas/{model}")
        schemas[entry.input_model.__name__] = schema
    app.openapi_schema = doc
    return doc


def create_app(models_dir: str | Path | None = None) -> FastAPI:
    """Build the calculator application.

    Parameters
    ----------
    models_dir : str or Path, optional
        Folder of extra model spec files (``*.json``, e.g. written by ``myorisk fit --save``),
        served beside the bundled published models.

    Returns
    -------
    fastapi.FastAPI
        The application; ``app.state.models`` maps model name to
        :class:`~myorisk.web.registry.ModelEntry`.

    Raises
    ------
    myorisk.errors.InputError
        ``models_dir`` is not a folder, or holds an invalid spec file.
    """
    from myorisk.web.routers import api, pages

    models = load_models(models_dir)
    app = FastAPI(
        title="myorisk calculator API",
        version=__version__,
        description=(
            "Predicted risk from the published PM/DM models (non-response to conventional "
            "therapy; refractory dermatomyositis, ReDMI) and from your own model spec files. "
            "`POST /api/models/{name}/predict` takes one patient (a JSON object keyed by the "
            "model's variables) or a list of them and answers `{probability, linear_predictor, "
            "points: {variable: points}, points_total}` (a list for a list), exactly as "
            "`myorisk predict --json`. Invalid input is refused with 422 and one message per "
            "field. Nothing about patients is stored or logged. The published models are "
            "RECONSTRUCTED (no intercept was published): see each model's provenance."
        ),
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: the app must work offline
        redoc_url=None,
    )
    app.state.models = models
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.build_router(models))
    app.include_router(pages.build_router(models))

    @app.exception_handler(RecordsInvalid)
    async def _invalid(request: Request, exc: RecordsInvalid) -> JSONResponse:
        return JSONResponse({"detail": [e.to_dict() for e in exc.errors]}, status_code=422)

    app.openapi = lambda: _openapi(app, models)  # type: ignore[method-assign]
    app.add_middleware(_Guard)
    return app


class _NoValues(logging.Filter):
    """Strip the client address and the query string from uvicorn access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


def access_log_config(level: str = "info") -> dict:
    """uvicorn ``log_config``: access lines ``- "POST /api/models/redmi/predict HTTP/1.1" 200``.

    No client address, no query string, no bodies (uvicorn never logs bodies).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_values": {"()": _NoValues}},
        "formatters": {
            "default": {"format": "%(levelname)s: %(message)s"},
            "access": {"format": "%(levelname)s: %(message)s"},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default",
                        "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access",
                       "filters": ["no_values"], "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(),
                               "propagate": False},
            "myorisk.web": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }
