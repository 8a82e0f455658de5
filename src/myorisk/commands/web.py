"""``myorisk serve``: the bedside calculator and JSON API (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands._common import err

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    models: Annotated[Path | None, typer.Option("--models", help="Folder of extra model spec files (*.json) to serve beside the published models.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes (each answers requests on its own; batch scoring also runs in each worker's thread pool).")] = 1,
    root_path: Annotated[str, typer.Option("--root-path", help="Path prefix under which a reverse proxy serves the calculator (e.g. /myorisk): links and the OpenAPI document carry it.")] = "",
    allowed_host: Annotated[list[str] | None, typer.Option("--allowed-host", help="Host name the calculator answers to (repeatable; *.example.org for subdomains, * for any). Default: localhost names, plus --host and this machine's names when listening beyond loopback.")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=0.001, help="Largest batch upload, in MB (2**20 bytes); larger ones get 413 before they are read.")] = 20.0,
    max_body_mb: Annotated[float, typer.Option("--max-body-mb", min=0.001, help="Largest body of any other request (JSON API, form), in MB.")] = 2.0,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log one line per request (method, path without query, status; never values or client addresses).")] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="Server log level: critical, error, warning, info or debug.")] = "info",
) -> None:
    """Serve a calculator page per model, batch CSV scoring and a JSON API (OpenAPI at /openapi.json).

    Nothing about patients is stored or logged. The pages work offline and without JavaScript.
    Requests are refused before they are read when too large (413), when their Host is not an
    allowed name (400), or, for the JSON API, when they are not JSON (415).
    """
    import json
    import os
    import socket

    import uvicorn

    from myorisk.errors import InputError
    from myorisk.web.app import CONFIG_ENV, DEFAULT_ALLOWED_HOSTS, access_log_config, app_from_env

    levels = ("critical", "error", "warning", "info", "debug", "trace")
    if log_level.lower() not in levels:
        raise InputError(f"--log-level must be one of {', '.join(levels[:-1])}, not {log_level!r}")
    if root_path and (not root_path.startswith("/") or root_path.endswith("/") or "?" in root_path):
        raise InputError(f"--root-path must look like /prefix (a leading /, no trailing /), not {root_path!r}")
    hosts = list(DEFAULT_ALLOWED_HOSTS)
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    else:  # every interface: this machine's own names too
        hosts += [socket.gethostname(), socket.getfqdn()]
    hosts += [h.strip() for h in allowed_host or [] if h.strip()]
    hosts = list(dict.fromkeys(h.lower().strip("[]") for h in hosts if h))
    config = {"models_dir": str(models) if models is not None else None, "allowed_hosts": hosts,
              "max_upload_bytes": int(max_upload_mb * 2**20), "max_body_bytes": int(max_body_mb * 2**20)}
    os.environ[CONFIG_ENV] = json.dumps(config)  # each worker process builds its app from it
    application = app_from_env()  # invalid spec files fail here, before listening
    try:  # a taken port or an unknown host: one line now, not uvicorn's log later
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(info[0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(info[4])
    except socket.gaierror:
        raise InputError(f"--host {host}: not a known address of this machine") from None
    except OSError as e:
        raise InputError(f"cannot listen on {host}:{port} ({e.strerror or e}); is another server using "
                         "the port? choose another with --port") from None
    names = ", ".join(application.state.models)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"myorisk calculator: http://{shown}:{port}{root_path}/ (models: {names}; "
              f"{workers} worker{'s' if workers > 1 else ''}; answers to {', '.join(hosts)}); Ctrl+C to stop",
              markup=False)
    common = {"host": host, "port": port, "log_config": access_log_config(log_level.lower()),
              "access_log": access_log, "server_header": False, "proxy_headers": False,
              "root_path": root_path}
    if workers > 1:  # worker processes import the application by name
        uvicorn.run("myorisk.web.app:app_from_env", factory=True, workers=workers, **common)
    else:
        uvicorn.run(application, **common)
