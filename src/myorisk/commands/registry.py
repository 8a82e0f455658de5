"""``myorisk registry …``: the prospective registry's command line (init, users, tokens, import,
export, monitoring, backup, restore, the web server)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.commands._common import JsonOpt, err, out
from myorisk.errors import InputError

__all__ = ["registry_app"]

DbOpt = Annotated[str, typer.Option("--db", help="Registry database: a SQLite file path (created by init) or a postgresql:// URL.")]

registry_app = typer.Typer(
    name="registry",
    help="Prospective registry: patients scored at baseline by the published models, 12-week "
         "follow-up (TIS, response), monitoring of the models' calibration and discrimination.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
user_app = typer.Typer(name="user", help="Registry users (admin, clinician, researcher).",
                       no_args_is_help=True, rich_markup_mode=None)
registry_app.add_typer(user_app, name="user")


def _open(db: str, create: bool = False):  # noqa: ANN202
    from myorisk.registry.service import Registry

    return Registry.open(db, create=create)


@registry_app.command("init", short_help="Create a registry (or bring its schema up to date)")
def init(db: DbOpt) -> None:
    """Create the registry's tables with the migrations shipped in myorisk (SQLite: the file and
    its folder; PostgreSQL: in the existing database of the URL). Safe to run again."""
    from myorisk.registry.db import HEAD

    reg = _open(db, create=True)
    reg.close()
    out.print(f"registry ready (schema {HEAD}); add an admin with "
              f"`myorisk registry user add NAME --role admin --db {db}`", markup=False)


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        pw = getpass.getpass("password: ")
        if getpass.getpass("again: ") != pw:
            raise InputError("the two passwords differ")
        return pw
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@user_app.command("add", short_help="Add a user (password read from stdin when not a terminal)")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (no spaces).")],
    role: Annotated[str, typer.Option("--role", help="admin, clinician or researcher.")],
    db: DbOpt,
    site: Annotated[str | None, typer.Option("--site", help="The clinician's site (created if new).")] = None,
) -> None:
    """Add a user. The password is hashed with Argon2; it is asked twice on a terminal, else the
    first line of stdin is the password (at least 8 characters)."""
    reg = _open(db)
    try:
        reg.add_user(name, role, _read_password(), site=site)
    finally:
        reg.close()
    out.print(f"user '{name}' added ({role}{', site ' + site if site else ''})", markup=False)


@user_app.command("list", short_help="List users")
def user_list(db: DbOpt, as_json: JsonOpt = False) -> None:
    """List users with role and site."""
    import pandas as pd

    reg = _open(db)
    try:
        users = reg.users()
    finally:
        reg.close()
    if as_json:
        common.dump({"users": users})
    else:
        out.print(common.table(pd.DataFrame(users, columns=["name", "role", "site", "active"]),
                               title="Registry users"))


@registry_app.command("token", short_help="Print a new API bearer token for a user")
def token(name: Annotated[str, typer.Argument(help="User name.")], db: DbOpt) -> None:
    """Print a new bearer token for the JSON API (only its hash is stored: keep it safe)."""
    reg = _open(db)
    try:
        out.print(reg.issue_token(name), markup=False)
    finally:
        reg.close()


@registry_app.command("import", short_help="Import a cohort file or REDCap export")
def import_(
    data: Annotated[Path, typer.Argument(help="Cohort file (CSV, TSV, XLSX, SAV, DTA) or a REDCap export.")],
    site: Annotated[str, typer.Option("--site", help="Site the patients belong to (created if new).")],
    db: DbOpt,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Column mapping file (YAML/JSON), as for check.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name or number.")] = None,
    redcap_dictionary: Annotated[Path | None, typer.Option("--redcap-dictionary", help="REDCap data dictionary CSV (DATA is then a REDCap export).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import patients: baseline (and week-12 follow-up/outcomes when the file has them); each
    published model's prediction is computed and stored, marked as computed at import. The file
    is checked before anything is written; re-running an import adds nothing twice."""
    from myorisk.registry.transfer import import_cohort

    sh: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    reg = _open(db)
    try:
        res = import_cohort(reg, data, site, mapping=str(mapping) if mapping else None, sheet=sh,
                            redcap_dictionary=str(redcap_dictionary) if redcap_dictionary else None)
    finally:
        reg.close()
    if as_json:
        common.dump(res.to_dict())
    else:
        out.print(f"{res.source}: {res.rows} rows; {res.created} patients added to site "
                  f"'{res.site}', {res.already_present} already present; {res.followups} "
                  "follow-ups recorded", markup=False)


@registry_app.command("export", short_help="Export the registry as a cohort file")
def export(
    out_file: Annotated[Path, typer.Option("--out", help="Cohort file to write (.csv, .tsv or .xlsx).")],
    db: DbOpt,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Pseudonyms instead of local IDs, no calendar dates (always so for researchers).")] = False,
) -> None:
    """Write one row per patient with canonical columns (baseline, week 12, tis_12w, outcomes)
    and prob_<model> (the stored prediction): the file `myorisk evaluate`, `study` and
    `site-summary` read."""
    from myorisk.registry.transfer import export_cohort

    reg = _open(db)
    try:
        n = export_cohort(reg, out_file, site=site, pseudonymise=pseudonymise)
    finally:
        reg.close()
    out.print(f"{n} patients written to {out_file}", markup=False)


@registry_app.command("monitor", short_help="Calibration and discrimination of a model as outcomes accrue")
def monitor(
    model: Annotated[str, typer.Option("--model", help="Published model: redmi, pmdm-noninvasive or pmdm-comprehensive.")],
    db: DbOpt,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the calibration and drift charts (PNG, SVG or PDF by extension).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """O/E with CI, calibration-in-the-large and slope with CIs, C with DeLong CI, per site and
    quarter, cumulative O − E and CUSUM drift, and a plain-language alert: the numbers of
    `myorisk evaluate --prob prob_<model>` on `registry export`."""
    reg = _open(db)
    try:
        res = reg.monitor(_system(), model, site=site)
    finally:
        reg.close()
    if plot is not None:
        from myorisk.report.figures import monitor_plot

        ext = plot.suffix.lower()
        if ext not in (".png", ".svg", ".pdf"):
            raise InputError(f"--plot must end in .png, .svg or .pdf, not {plot.name!r}")
        fig = monitor_plot(res)
        import io

        from myorisk.atomic import write_bytes_atomic

        buf = io.BytesIO()
        fig.savefig(buf, format=ext[1:], dpi=200, bbox_inches="tight")
        write_bytes_atomic(plot, buf.getvalue())
    if as_json:
        common.dump(res)
        return
    f = common.fmt

    def ci(d: dict) -> str:
        if d["estimate"] is None:
            return "not estimable"
        return f"{f(d['estimate'], 3)} ({f(d['low'], 3)} to {f(d['high'], 3)})"

    out.print(f"Model {res['model']} (outcome {res['outcome']}): {res['n']} patients with an "
              f"outcome, {res['events']} events, {f(res['expected'], 3)} expected", markup=False)
    rows = [("Observed/expected (95% CI)", ci(res["oe"])),
            ("Calibration-in-the-large", ci(res["citl"])),
            ("Calibration slope", ci(res["slope"])),
            ("C (ROC area), DeLong 95% CI", ci(res["c"])),
            ("Brier score", f(res["brier"]))]
    import pandas as pd

    out.print(common.table(pd.DataFrame(rows, columns=["statistic", "value"]), title="Monitoring"))
    out.print(("ALERT: " if res["alert"] else "") + res["message"], markup=False)
    if res.get("notice"):
        common.note(res["notice"])
    if plot is not None:
        out.print(f"charts written to {plot}", markup=False)


def _system():  # noqa: ANN202
    from myorisk.registry.access import Principal

    return Principal.system()


@registry_app.command("backup", short_help="Back up a live registry")
def backup_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="Backup file to write.")],
    db: DbOpt,
) -> None:
    """SQLite: online backup API (consistent while the server runs); PostgreSQL: pg_dump
    (custom format). The file appears only when complete."""
    from myorisk.registry.transfer import backup

    backup(db, out_file)
    out.print(f"backup written to {out_file}", markup=False)


@registry_app.command("restore", short_help="Restore a registry from a backup")
def restore_cmd(
    backup_file: Annotated[Path, typer.Argument(help="File written by registry backup.")],
    db: DbOpt,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing registry.")] = False,
) -> None:
    """Restore a backup into --db (an existing registry is replaced only with --force)."""
    from myorisk.registry.transfer import restore

    restore(db, backup_file, force=force)
    reg = _open(db)  # checks the restored schema and migrates it if it is older
    reg.close()
    out.print(f"registry restored from {backup_file}", markup=False)


@registry_app.command("serve", short_help="Serve the registry pages and JSON API")
def serve(
    db: DbOpt,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8001,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies/--no-secure-cookies", help="Mark the session cookie Secure (behind HTTPS).")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="critical, error, warning, info or debug.")] = "info",
) -> None:
    """Serve the registry: pages (sign-in, patients, baseline and follow-up forms, timeline,
    monitoring) and the JSON API (OpenAPI at /openapi.json). The log holds methods, paths and
    statuses only: never a patient value."""
    import uvicorn

    from myorisk.web.app import access_log_config
    from myorisk.web.registry_app import create_registry_app

    levels = ("critical", "error", "warning", "info", "debug")
    if log_level.lower() not in levels:
        raise InputError(f"--log-level must be one of {', '.join(levels)}, not {log_level!r}")
    reg = _open(db)
    application = create_registry_app(reg, secure_cookies=secure_cookies)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"myorisk registry: http://{shown}:{port}/registry/ ; Ctrl+C to stop", markup=False)
    uvicorn.run(application, host=host, port=port, log_config=access_log_config(log_level.lower()),
                server_header=False, proxy_headers=False)
