"""``myorisk demo``: study A's and study B's analyses on the bundled SYNTHETIC cohorts."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from myorisk.errors import InputError
from myorisk.study.config import StudyConfig, load_config

__all__ = ["DEMO_B", "DEMO_STUDIES", "demo_config", "run_demo"]

#: Bootstrap resamples used by the demo (``myorisk study`` defaults to 1000).
DEMO_B = 200

#: Bundled demo configurations: output sub-folder → config file.
DEMO_STUDIES = {"study-a": "study-a.yaml", "study-b": "study-b.yaml"}


def demo_config(name: str, B: int = DEMO_B) -> StudyConfig:
    """The bundled configuration of demo study ``name`` (``study-a`` or ``study-b``) with ``B``.

    Raises
    ------
    InputError
        Unknown name.
    """
    if name not in DEMO_STUDIES:
        raise InputError(f"unknown demo study '{name}' (choose from {', '.join(DEMO_STUDIES)})")
    ref = resources.files("myorisk.study").joinpath("configs", DEMO_STUDIES[name])
    with resources.as_file(ref) as p:
        cfg = load_config(p)
    note = (f"This demo uses B = {B} bootstrap resamples so that both studies finish in under a "
            "minute on a small machine; `myorisk study` uses B = 1000 unless the configuration "
            f"says otherwise. Estimates from {B} resamples vary slightly with the seed.")
    return cfg.with_bootstrap(B=B).model_copy(update={"bootstrap_note": note})


def _index_html(links: list[tuple[str, str, str]]) -> str:
    items = "\n".join(
        f'<li><a href="{html.escape(href)}">{html.escape(title)}</a> — {html.escape(desc)}</li>'
        for href, title, desc in links)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>myorisk demo</title>
<style>body{{font:16px/1.5 Georgia,serif;max-width:760px;margin:40px auto;padding:0 20px}}
.banner{{background:#b00020;color:#fff;font:700 14px Arial,sans-serif;padding:8px 14px}}</style></head>
<body><div class="banner">SYNTHETIC DATA — no row is a real patient.</div>
<h1>myorisk demo</h1><p>The two seed studies' analyses, run on the bundled synthetic cohorts:</p>
<ul>{items}</ul></body></html>
"""


def run_demo(out_dir: str | os.PathLike[str], *, B: int = DEMO_B, pdf: bool = False,
             progress_for: Callable[[str], Callable | None] | None = None) -> list[Path]:
    """Run both demo studies into ``out_dir/study-a`` and ``out_dir/study-b``.

    Parameters
    ----------
    out_dir : path
        Output folder (created; earlier demo output in it is replaced).
    B : int
        Bootstrap resamples.
    pdf : bool
        Also write each report as PDF.
    progress_for : callable(study name) -> progress callback, optional

    Returns
    -------
    list of Path
        ``out_dir/index.html`` followed by each study's ``report.html``.
    """
    from myorisk.report.write import write
    from myorisk.study.pipeline import run

    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if out.exists():
        known = {"index.html", "multicentre", *DEMO_STUDIES}
        foreign = [c.name for c in out.iterdir() if c.name not in known and not c.name.startswith(".")]
        if foreign:
            raise InputError(f"{out}: holds other files ({', '.join(sorted(foreign)[:3])}); "
                             "choose an empty or new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    reports, links = [], []
    for name in DEMO_STUDIES:
        cfg = demo_config(name, B)
        cb = progress_for(name) if progress_for else None
        res = run(cfg, progress=cb)
        if cb:
            cb("Write report, figures and tables", 0, 1)
        reports.append(write(res, out / name, pdf=pdf))
        if cb:
            cb("Write report, figures and tables", 1, 1)
        links.append((f"{name}/report.html", cfg.title, cfg.description))
    from myorisk.study.multicentre import run_multicentre_demo  # site files → pooled reports

    multi = run_multicentre_demo(out / "multicentre")
    reports += multi
    links += [("multicentre/redmi/report.html", "Multi-centre external validation of ReDMI",
               "four synthetic centres (different case mix, one miscalibrated) pooled from their site files"),
              ("multicentre/study-a/report.html", "Study A's two centres pooled",
               "the non-invasive model in Qingdao and Liaocheng, from their site files")]
    from myorisk.atomic import write_text_atomic

    write_text_atomic(out / "index.html", _index_html(links))
    return [out / "index.html", *reports]
