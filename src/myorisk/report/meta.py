"""HTML (and PDF) report of a multi-centre meta-analysis, in the style of the study report.

The folder holds ``report.html`` (self-contained, figures inline as SVG), ``figures/`` (PNG and
SVG per pooled measure), ``tables/`` (CSV of centres and pooled estimates), ``results.json`` and,
with ``pdf=True``, ``report.pdf``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["write_meta_report", "render_meta"]

_TITLES = {"c": "C statistic", "oe": "Observed/expected ratio", "slope": "Calibration slope",
           "citl": "Calibration-in-the-large"}


def render_meta(res, inline: dict[str, str], formats: tuple[str, ...] = ("png", "svg")) -> str:
    """The report's HTML for a :class:`~myorisk.study.multicentre.MultiCentre`."""
    import datetime as dt

    import jinja2

    from myorisk import __version__

    env = jinja2.Environment(loader=jinja2.PackageLoader("myorisk.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    pooled = []
    for m, ma in res.pooled.items():
        d = ma.to_dict()
        lo, hi = res.acceptable[m]
        rng = f"> {lo:g}" if hi is None else (f"< {hi:g}" if lo is None else f"{lo:g} to {hi:g}")
        pooled.append({"key": m, "title": _TITLES[m], "d": d, "digits": 3 if m == "c" else 2,
                       "p": res.probability(m), "range": rng})
    return env.get_template("meta.html.j2").render(
        res=res, pooled=pooled, figures=inline, titles=_TITLES, version=__version__,
        formats=" · ".join(f".{f}" for f in formats),
        created=dt.date.today().isoformat(),
    )


def write_meta_report(res, out_dir: str | os.PathLike[str], *, pdf: bool = False,
                      formats: tuple[str, ...] = ("png", "svg")) -> Path:
    """Write the report folder (replacing an earlier myorisk report there); return report.html.

    ``formats`` are the figure files written (the page embeds the SVG, always made).

    Raises
    ------
    InputError
        ``out_dir`` is not absent, empty or an earlier report; Chromium missing with ``pdf``.
    """
    import pandas as pd

    from myorisk.report import figures as F
    from myorisk.report.write import check_output_folder

    out = check_output_folder(out_dir)
    if pdf:
        from myorisk.report.pdf import find_chromium

        find_chromium()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    plt = F._plt()
    mark = "SYNTHETIC DATA" if res.synthetic else None
    try:
        (tmp / "figures").mkdir()
        inline = {}
        fmts = tuple(dict.fromkeys((*formats, "svg")))
        for m, ma in res.pooled.items():
            fig = F.meta_forest_plot(ma, watermark=mark)
            paths = F.save(fig, tmp / "figures" / f"forest-{m}", formats=fmts, dpi=200)
            plt.close(fig)
            inline[m] = next(p for p in paths if p.suffix == ".svg").read_bytes().decode("utf-8")
        (tmp / "tables").mkdir()
        pd.DataFrame(list(res.sites)).to_csv(tmp / "tables" / "centres.csv", index=False)
        res.to_frame().to_csv(tmp / "tables" / "pooled.csv", index=False)
        (tmp / "results.json").write_text(json.dumps(res.to_dict(), indent=1, allow_nan=False,
                                                     ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "report.html").write_text(render_meta(res, inline, fmts), encoding="utf-8")
        if pdf:
            from myorisk.report.pdf import html_to_pdf

            html_to_pdf(tmp / "report.html", tmp / "report.pdf")
        from myorisk.atomic import replace_folder

        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "report.html"
