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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myorisk import __version__
from myorisk.errors import InputError
from myorisk.web.registry import ModelEntry, load_models
from myorisk.web.scoring import RecordsInvalid

__all__ = ["create_app", "access_log_config", "STATIC_DIR", "TEMPLATE_DIR",
           "DEFAULT_ALLOWED_HOSTS", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_BODY_BYTES",
           "app_from_env", "CONFIG_ENV"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
log = logging.getLogger("myorisk.web")

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


#: Host names accepted by default (the Host header, without its port).
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
#: Default largest request body of a batch upload, and of any other request (bytes).
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when a request body passes its limit while being read."""


def _route_path(scope: Scope) -> str:
    """The path inside the application (without a proxy's ``root_path``)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "")
    return path[len(root):] if root and path.startswith(root) else path


def _refusal(scope: Scope, status: int, title: str, message: str) -> Response:
    """A 4xx answer in the medium of the route: JSON for the API, a small page for the pages."""
    if _route_path(scope).startswith(("/api/", "/openapi")):
        return JSONResponse({"detail": message}, status_code=status)
    root = str(scope.get("root_path", "") or "").rstrip("/")
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)} · myorisk'
            f'</title><link rel="stylesheet" href="{escape(root)}/static/style.css"></head>'
            f'<body><main id="main" class="wrap"><h1>{escape(title)}</h1>'
            f'<p role="alert">{escape(message)}</p><p><a href="{escape(root)}/">Calculators</a>'
            f'</p></main></body></html>')
    return HTMLResponse(body, status_code=status)


class _Guard:
    """Outermost ASGI middleware: security/privacy headers, HEAD, and the last line of defence.

    * Every response gets the privacy/security headers (``Cache-Control: no-store`` …).
    * ``HEAD`` is answered on every ``GET`` route: the request runs as ``GET`` and the body is
      dropped (headers, ``Content-Length`` included, are those of the ``GET``).
    * An exception escaping a route is a bug: it is logged as
      ``"<ExceptionType> in <METHOD> <route path>"`` (no message, no traceback, no query string,
      because exception texts can quote input values) and answered ``400`` with a generic
      message. The project's rule is that no request is answered ``500``; validation answers
      4xx long before this point, and the tests fail on any such log line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        head = scope.get("method") == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                static = _route_path(scope).startswith("/static/")
                extra = {
                    b"cache-control": b"max-age=3600" if static else b"no-store",
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"content-security-policy": _CSP.encode(),
                    b"x-frame-options": b"DENY",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        except _BodyTooLarge as exc:
            if started:  # pragma: no cover - bodies are read before answering
                raise RuntimeError("response aborted") from None
            await _refusal(scope, 413, "Request too large", str(exc))(scope, receive,
                                                                      send_wrapped)
        except Exception as exc:  # noqa: BLE001 - last line of defence, see class docstring
            log.error("%s in %s %s", type(exc).__name__, scope.get("method", ""),
                      _route_path(scope))
            if started:  # pragma: no cover - the response was already under way
                raise RuntimeError("response aborted") from None
            await _refusal(scope, 400, "Request not processed",
                           "the request could not be processed (an unexpected problem, logged "
                           "without input values); check it against /api or the page's form, "
                           "and report it if it persists")(scope, receive, send_wrapped)


class _Limits:
    """Trusted hosts, content types and request-body limits, checked before a body is read.

    * ``Host`` must name one of ``allowed_hosts`` (``*`` allows any; ``*.example.org`` any
      subdomain): else ``400``. This stops DNS-rebinding pages from reaching a calculator on
      ``localhost`` and keeps generated links honest.
    * ``POST`` to a JSON endpoint (``/api/...``; other methods get 405 from routing) must say ``Content-Type: application/json``
      (or ``application/<x>+json``; charset UTF-8 if given): else ``415``.
    * The body of a batch upload (``POST .../batch``) may hold at most ``max_upload_bytes``,
      any other body at most ``max_body_bytes``: a larger ``Content-Length`` is answered ``413``
      at once, without reading the body; a body sent without a length (chunked) is counted as
      it arrives, and reading stops with ``413`` at the first byte past the limit.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str], max_upload_bytes: int,
                 max_body_bytes: int) -> None:
        self.app = app
        self.hosts = [h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()]
        self.max_upload = int(max_upload_bytes)
        self.max_body = int(max_body_bytes)

    def _host_ok(self, host: str) -> bool:
        if "*" in self.hosts:
            return True
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8000
            host = host[1:].split("]", 1)[0]
        elif host.count(":") == 1:
            host = host.split(":", 1)[0]
        host = host.rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:]))
                   for h in self.hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host", b"").decode("latin-1")
        if not self._host_ok(host):
            shown = host if len(host) <= 60 else host[:57] + "..."
            await _refusal(scope, 400, "Unknown host",
                           f"host '{shown}' is not served here (allowed: "
                           f"{', '.join(self.hosts)}; myorisk serve --allowed-host NAME adds "
                           "one)")(scope, receive, send)
            return
        path = _route_path(scope)
        method = scope.get("method", "")
        if method == "POST" and path.startswith("/api/") and path.endswith("/predict"):
            ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
            mime, _, params = ctype.partition(";")
            mime = mime.strip()
            charset = ""
            for part in params.split(";"):
                k, _, v = part.partition("=")
                if k.strip() == "charset":
                    charset = v.strip().strip('"')
            if not (mime == "application/json" or (mime.startswith("application/")
                                                   and mime.endswith("+json"))) \
                    or charset not in ("", "utf-8", "utf8"):
                given = f"'{ctype[:60]}'" if ctype else "none"
                await _refusal(scope, 415, "Unsupported content type",
                               f"send the body as JSON with the header 'Content-Type: "
                               f"application/json' (UTF-8); content type given: {given}")(
                    scope, receive, send)
                return
        limit = self.max_upload if path.endswith("/batch") else self.max_body
        what = "an upload" if path.endswith("/batch") else "a request body"
        text = (f"{what} may hold at most {_size(limit)} (myorisk serve "
                f"{'--max-upload-mb' if path.endswith('/batch') else '--max-body-mb'} sets it)")
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length.decode("latin-1").strip())
            except ValueError:
                n = -1
            if n < 0:
                await _refusal(scope, 400, "Bad request", "the Content-Length header is not a "
                               "number")(scope, receive, send)
                return
            if n > limit:
                await _refusal(scope, 413, "Request too large",
                               f"{text}; this one has {_size(n)}")(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(text)
            return message

        await self.app(scope, counted, send)


def _size(n: int) -> str:
    """``20 MB``, ``512 kB``, ``900 bytes`` (MB = 2**20 bytes)."""
    if n >= 2**20:
        return f"{n / 2**20:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} kB"
    return f"{n} bytes"


def _openapi(app: FastAPI, models: dict[str, ModelEntry]) -> dict[str, Any]:
    """OpenAPI document with one input schema per model (components/schemas)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes, servers=app.servers or None)  # --root-path
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for entry in models.values():
        schema = entry.input_model.model_json_schema(
            ref_template="#/components/schemas/{model}")
        schemas[entry.input_model.__name__] = schema
    app.openapi_schema = doc
    return doc


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    from myorisk.web.batch import shutdown_batch_pool

    shutdown_batch_pool(app.state)


def create_app(models_dir: str | Path | None = None, *,
               allowed_hosts: Sequence[str] = DEFAULT_ALLOWED_HOSTS,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               process_batches_above: int | None = 1024 * 1024) -> FastAPI:
    """Build the calculator application.

    Parameters
    ----------
    models_dir : str or Path, optional
        Folder of extra model spec files (``*.json``, e.g. written by ``myorisk fit --save``),
        served beside the bundled published models.
    allowed_hosts : sequence of str
        Host names (``Host`` header without port) the application answers; ``"*"`` for any,
        ``"*.example.org"`` for every subdomain. Default: the names of this machine's loopback
        interface (``localhost``, ``127.0.0.1``, ``::1``).
    max_upload_bytes : int
        Largest batch upload (request body of ``POST /models/{name}/batch``), default 20 MB.
    max_body_bytes : int
        Largest body of any other request (the JSON API, the form), default 2 MB: room for
        the API's 10,000 patients.
    process_batches_above : int or None
        Uploads from this many bytes (default 1 MB) are scored in a separate process, smaller
        ones in the thread pool; None: always the thread pool. See :mod:`myorisk.web.batch`.

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
        lifespan=_lifespan,
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
    for n, what in ((max_upload_bytes, "max_upload_bytes"), (max_body_bytes, "max_body_bytes")):
        if not int(n) > 0:
            raise InputError(f"{what} must be a positive number of bytes, not {n}")
    app.state.max_upload_bytes = int(max_upload_bytes)
    app.state.max_body_bytes = int(max_body_bytes)
    app.state.allowed_hosts = tuple(allowed_hosts)
    app.state.batches_in_flight = 0
    app.state.process_batches_above = process_batches_above
    app.state.batch_pool = None
    app.add_middleware(_Limits, allowed_hosts=tuple(allowed_hosts),
                       max_upload_bytes=int(max_upload_bytes), max_body_bytes=int(max_body_bytes))
    app.add_middleware(_Guard)  # added last: outermost
    return app


#: Environment variable through which ``myorisk serve`` hands its settings to worker processes.
CONFIG_ENV = "MYORISK_WEB_CONFIG"


def app_from_env() -> FastAPI:
    """The application configured by :data:`CONFIG_ENV` (JSON: the keyword arguments of
    :func:`create_app`, ``models_dir`` included); the factory of ``myorisk serve --workers N``,
    whose worker processes each build their own application."""
    import json
    import os

    raw = os.environ.get(CONFIG_ENV, "")
    cfg = json.loads(raw) if raw else {}
    return create_app(cfg.pop("models_dir", None), **cfg)


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
