"""The ``myorisk`` command line: wiring only.

Every command is a plain function in a module of :mod:`myorisk.commands`; this module lists them
(name, function, one-line help, help panel) and turns failures into exit codes. A command's module
is imported only when that command runs (or its help is shown), so ``myorisk --help`` and a small
command start fast. Every analysis command takes ``--json`` and prints the result's ``to_dict()``;
bad input ends with exit code 2 and one line on stderr naming the file, row, column and rule; no
traceback reaches the user.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from myorisk import __version__
from myorisk.commands import _common as common
from myorisk.commands._common import err, out
from myorisk.errors import MyoriskError


@dataclass(frozen=True)
class Command:
    """One command of the CLI.

    Attributes
    ----------
    name : str
        What the user types.
    target : str
        ``"module:attribute"`` under :mod:`myorisk.commands`: a function, or a :class:`typer.Typer`
        for a group of sub-commands.
    short_help : str
        The one line shown by ``myorisk --help``.
    panel : str
        The help panel the command is listed under.
    """

    name: str
    target: str
    short_help: str
    panel: str


_MODELS = "Models and performance"
_INTERNAL = "Internal validation"
_MYOSITIS = "Myositis instruments and cohort files"
_PUBLISHED = "Published models"
_STUDIES = "Studies and reports"
_MULTI = "Multi-centre validation"
_WEB = "Web"

#: Every command, in the order ``myorisk --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    Command("fit", "regression:fit", "Fit a logistic regression (ML or Firth)", _MODELS),
    Command("univariate", "regression:univariate", "Univariable ORs with CIs and p (Table 2)", _MODELS),
    Command("select", "regression:select", "Select predictors (p-value screen or backward AIC)", _MODELS),
    Command("pentrace", "regression:pentrace", "Choose a penalty by corrected AIC (rms pentrace)", _MODELS),
    Command("anova", "regression:anova", "Wald tests per factor: nonlinearity, interactions (rms)", _MODELS),
    Command("effects", "regression:effects", "Partial effect plots with pointwise CIs (rms Predict)", _MODELS),
    Command("nomogram", "regression:nomogram", "Fit a logistic model and show its nomogram", _MODELS),
    Command("roc", "curves:roc", "ROC curve, AUC with DeLong CI, DeLong tests", _MODELS),
    Command("dca", "curves:dca", "Decision curves: net benefit vs treat all/none", _MODELS),
    Command("evaluate", "evaluate:evaluate", "Validate predicted risks: C, Brier, calibration, DCA", _MODELS),
    Command("impute", "impute:impute", "Multiple imputation by chained equations (MICE)", _MODELS),
    Command("table1", "evaluate:table1", "Baseline characteristics by group (Table 1)", _MODELS),
    Command("sample-size", "evaluate:sample_size", "Sample size to develop or validate a model (Riley)", _MODELS),
    Command("validate", "validation:validate", "Bootstrap optimism-corrected indexes (rms validate)", _INTERNAL),
    Command("calibrate", "validation:calibrate", "Bootstrap bias-corrected calibration (rms calibrate)", _INTERNAL),
    Command("criteria", "myositis:criteria", "EULAR/ACR 2017 classification criteria", _MYOSITIS),
    Command("tis", "myositis:tis", "ACR/EULAR 2016 Total Improvement Score (TIS)", _MYOSITIS),
    Command("check", "myositis:check", "Check a cohort file; report missing data", _MYOSITIS),
    Command("derive", "myositis:derive", "Add every derivable variable to a cohort file", _MYOSITIS),
    Command("models", "models:models_list", "List the bundled published models", _PUBLISHED),
    Command("predict", "models:predict", "Predict risk for one patient or a file of patients", _PUBLISHED),
    Command("datasets", "models:datasets", "Bundled synthetic cohorts: list, export", _PUBLISHED),
    Command("site-summary", "multicentre:site_summary", "One centre's performance summary, no patient data", _MULTI),
    Command("meta", "multicentre:meta", "Pool centres' site files: random-effects meta-analysis", _MULTI),
    Command("study", "study:study", "Run a whole study from a YAML config into a report", _STUDIES),
    Command("demo", "study:demo", "Run studies A and B on the bundled synthetic cohorts", _STUDIES),
    Command("serve", "web:serve", "Serve the bedside calculator and JSON API", _WEB),
    Command("registry", "registry:registry_app", "Prospective registry: patients, follow-up, monitoring", "Registry"),
    Command("kernels", "kernels:kernels", "Build or show the compiled kernels (set-up, once)", "Set-up"),
)
_BY_NAME = {c.name: c for c in COMMANDS}


def load_command(name: str) -> Any:
    """The click command behind ``name``, built from its function (imports its module)."""
    spec = _BY_NAME[name]
    module, attr = spec.target.split(":")
    obj = getattr(importlib.import_module(f"myorisk.commands.{module}"), attr)
    if isinstance(obj, typer.Typer):  # a group of sub-commands
        cmd = typer.main.get_command(obj)
    else:
        holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
        holder.callback()(lambda: None)  # a group, so that the one command keeps its own name
        holder.command(name)(obj)
        cmd = typer.main.get_command(holder).commands[name]
    cmd.name = name
    cmd.short_help = spec.short_help
    return cmd


class _LazyGroup(TyperGroup):
    """The top-level group: commands from :data:`COMMANDS`, each module imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [c.name for c in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _BY_NAME:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As click's, but an unknown command names the closest one (``fti`` → ``fit``)."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _BY_NAME:
            import difflib

            close = difflib.get_close_matches(name, list(_BY_NAME), n=3, cutoff=0.6)
            # a transposition (fti → fit) beats a look-alike (tis)
            close.sort(key=lambda c: sorted(c) != sorted(name))
            if close:
                ctx.fail(f"no command '{name}'; did you mean '{close[0]}'?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Plain help, each command under its panel, without importing any command module."""
        width = max(len(c.name) for c in COMMANDS)  # one name column across every panel
        panels: dict[str, list[tuple[str, str]]] = {}
        for c in COMMANDS:
            panels.setdefault(c.panel, []).append((c.name.ljust(width), c.short_help))
        for title, rows in panels.items():
            with formatter.section(title):
                formatter.write_dl(rows)


app = typer.Typer(
    cls=_LazyGroup,
    name="myorisk",
    help=(
        "Prediction models for non-response to therapy in polymyositis/dermatomyositis: "
        "fits, performance, ROC, decision curves, validation and nomograms identical to R rms/pROC; "
        "myositis instruments; published models as calculators."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


# ----------------------------------------------------------------------------- entry point
def _exc_types() -> dict[str, tuple[type, ...]]:
    """Exception classes of typer's (possibly vendored) click, found by name."""
    mods = [typer]
    try:
        from typer import _click  # type: ignore[attr-defined]

        mods += [_click, getattr(_click, "exceptions", _click)]
    except ImportError:  # pragma: no cover - older typer uses click itself
        pass
    try:  # pragma: no cover
        import click as _c

        mods += [_c, _c.exceptions]
    except ImportError:  # pragma: no cover
        pass

    def find(*names: str) -> tuple[type, ...]:
        found = []
        for m in mods:
            for n in names:
                t = getattr(m, n, None)
                if isinstance(t, type) and t not in found:
                    found.append(t)
        return tuple(found)

    return {
        "help": find("NoArgsIsHelpError", "NoArgsIsHelp"),
        "exit": find("Exit"),
        "abort": find("Abort"),
        "click": find("ClickException"),
    }


MAX_LINE = 600


def _shorten(msg: str) -> str:
    """Keep each line of an error readable: a message listing every bad row is cut after MAX_LINE characters."""
    lines = []
    for line in msg.splitlines() or [""]:
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE].rstrip() + f" … ({len(line) - MAX_LINE} more characters)"
        lines.append(line)
    return "\n".join(lines)


def _run(argv: Sequence[str] | None) -> int:
    """Run the CLI; notes reach stderr only when the command succeeds (a failure is one line)."""
    common.hold_notes()
    try:
        code = _run_held(argv)
    except BaseException:
        common.release_notes(show=False)
        raise
    common.release_notes(show=code == 0)
    return code


def _run_held(argv: Sequence[str] | None) -> int:
    """Run the CLI and turn every failure into an exit code and one line on stderr."""
    ex = _exc_types()
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=list(argv) if argv is not None else None, prog_name="myorisk", standalone_mode=False)
        if rv == 130:  # typer turns Ctrl-C (KeyboardInterrupt) into Exit(130) and returns its code
            err.print("myorisk: interrupted", markup=False)
        return int(rv) if isinstance(rv, int) else 0
    except ex["help"] as e:
        ctx = getattr(e, "ctx", None)
        print(ctx.get_help() if ctx is not None else cmd.get_help(cmd.make_context("myorisk", [])))
        return 0
    except ex["exit"] as e:
        code = int(getattr(e, "exit_code", 0) or 0)
        if code == 130:
            err.print("myorisk: interrupted", markup=False)
        return code
    except ex["abort"]:
        err.print("myorisk: aborted", markup=False)
        return 1
    except ex["click"] as e:
        msg = e.format_message() if hasattr(e, "format_message") else str(e)
        ctx = getattr(e, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        err.print(f"myorisk: error: {msg}{where}", markup=False)
        return 2
    except MyoriskError as e:
        err.print(f"myorisk: error: {_shorten(str(e))}", markup=False)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        err.print("myorisk: interrupted", markup=False)
        return 130
    except Exception as e:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("MYORISK_DEBUG"):
            raise
        err.print(f"myorisk: internal error: {type(e).__name__}: {e} (set MYORISK_DEBUG=1 for a traceback; "
                  "please report it)", markup=False)
        return 1


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``myorisk``)."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    sys.exit(code)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"myorisk {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help())
        raise typer.Exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
