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
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log one line per request (method, path without query, status; never values or client addresses).")] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="Server log level: critical, error, warning, info or debug.")] = "info",
) -> None:
    """Serve a calculator page per model, batch CSV scoring and a JSON API (OpenAPI at /openapi.json).

    Nothing about patients is stored or logged. The pages work offline and without JavaScript.
    """
    import socket

    import uvicorn

    from myorisk.errors import InputError
    from myorisk.web.app import access_log_config, create_app

    levels = ("critical", "error", "warning", "info", "debug", "trace")
    if log_level.lower() not in levels:
        raise InputError(f"--log-level must be one of {', '.join(levels[:-1])}, not {log_level!r}")
    application = create_app(models)  # invalid spec files fail here, before listening
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
    err.print(f"myorisk calculator: http://{shown}:{port}/ (models: {names}); Ctrl+C to stop",
              markup=False)
    uvicorn.run(application, host=host, port=port, log_config=access_log_config(log_level.lower()),
                access_log=access_log, server_header=False, proxy_headers=False)
