"""``--pdf``: render the HTML report to PDF with headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from myorisk.errors import InputError

__all__ = ["find_chromium", "html_to_pdf"]

_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    """Path of a Chromium/Chrome executable (``MYORISK_CHROMIUM`` overrides).

    Raises
    ------
    InputError
        None found, with what to install.
    """
    env = os.environ.get("MYORISK_CHROMIUM")
    for c in ((env,) if env else ()) + _CANDIDATES:
        p = c if os.path.isabs(c) and os.access(c, os.X_OK) else shutil.which(c)
        if p:
            return p
    raise InputError(
        "--pdf needs Chromium to print the report: install it (Debian/Ubuntu: 'sudo apt-get install "
        "chromium'; macOS: install Google Chrome) or set MYORISK_CHROMIUM to its path; the HTML "
        "report can also be printed to PDF from any browser"
    )


def html_to_pdf(html: Path, pdf: Path, *, timeout: float = 120.0) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium; return ``pdf``."""
    exe = find_chromium()
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf}", Path(html).absolute().as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"Chromium did not finish printing {html.name} within {timeout:.0f} s") from None
    if proc.returncode != 0 or not Path(pdf).exists():
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise InputError(f"Chromium could not print {html.name} to PDF: {msg[0]}")
    return pdf
