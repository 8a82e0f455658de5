"""``myorisk datasets`` (synthetic seed cohorts) and ``myorisk predict`` / ``myorisk models`` (model specs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from myorisk.commands import _common as common
from myorisk.commands._common import DecimalOpt, EncodingOpt, ExtrapolateOpt, JsonOpt, SepOpt, out
from myorisk.errors import InputError


def _value(text: str) -> object:
    try:
        v = float(text)
    except ValueError:
        return text
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


datasets = typer.Typer(help="The synthetic seed cohorts shipped with myorisk (SYNTHETIC data).", no_args_is_help=True,
                       rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False)


@datasets.command("list")
def datasets_list(as_json: JsonOpt = False) -> None:
    """List the bundled synthetic cohorts."""
    from myorisk.datasets import SYNTHETIC_NOTICE, list_datasets

    rows = list_datasets()
    if as_json:
        common.dump({"datasets": rows, "notice": SYNTHETIC_NOTICE})
        return
    fr = pd.DataFrame(rows)[["name", "study", "n", "events", "outcome", "description"]]
    out.print(common.table(fr, title="Bundled cohorts"))
    common.note(SYNTHETIC_NOTICE)


@datasets.command("export")
def datasets_export(
    name: Annotated[str, typer.Argument(help="Data set name (see `myorisk datasets list`).")],
    path: Annotated[Path, typer.Argument(help="CSV file (or folder) to write.")],
) -> None:
    """Write a bundled synthetic cohort as CSV."""
    from myorisk.datasets import SYNTHETIC_NOTICE, export_dataset

    if not path.is_dir() and path.suffix.lower() != ".csv":
        raise InputError(f"{path}: datasets are exported as CSV; give a .csv file name or a folder")
    written = export_dataset(name, path)
    out.print(f"wrote {written}")
    common.note(SYNTHETIC_NOTICE)


def models_list(as_json: JsonOpt = False) -> None:
    """List the bundled published models and their provenance status."""
    from myorisk.published import list_models

    rows = list_models()
    if as_json:
        common.dump({"models": rows})
        return
    fr = pd.DataFrame([{**{k: r.get(k) for k in ("name", "title", "status", "outcome")},
                        "variables (--set VAR=VALUE)": ", ".join(map(str, r.get("variables") or []))}
                       for r in rows])
    out.print(common.table(fr, title="Published models"))
    for r in rows:
        if r.get("notice"):
            common.note(r["notice"])


def predict(
    model: Annotated[str, typer.Option("--model", help="A published model's name (see `myorisk models`) or a model spec JSON file.")],
    input: Annotated[Path | None, typer.Option("--input", "-i", help="File of patients to score.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Scored file to write (with --input).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="One patient's value, VAR=VALUE (repeatable).")] = None,
    extrapolate: ExtrapolateOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="With --input: refuse a file with any missing value "
                                                          "(default: score the complete rows, leave the others blank "
                                                          "and list them).")] = False,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Predicted probability, linear predictor and nomogram points — for one patient (--set or a JSON
    object on stdin) or a file of patients (--input, --output)."""
    from myorisk.modeling.spec import predict as score
    from myorisk.modeling.spec import predict_one
    from myorisk.published.files import load_spec

    if input is not None and set_:
        raise InputError("give either --input FILE or --set VAR=VALUE, not both")
    if output is not None and input is None:
        raise InputError("--output needs --input FILE")
    common.guard_output(output, "--output", input)
    spec = load_spec(model)
    notice = spec.notice()
    if input is not None:
        df = common.read(input, encoding, sep, decimal, harmonise=False)
        scored = score(spec, df, source=input.name, extrapolate=extrapolate or None,
                       missing="error" if strict else "skip")
        skipped = scored.attrs.get("incomplete") or []
        if skipped and len(skipped) == len(df):
            raise InputError(f"{input.name}: every row has a missing value in the model's variables "
                             f"({', '.join(v.name for v in spec.variables)}): nothing to score")
        if skipped:  # as fit reports the rows it excludes: never silently
            common.note(f"{input.name}: {len(skipped)} of {len(df)} rows have a missing value in the model's variables "
                        f"and were not scored (blank predictions; {common.rows_text(skipped)}); --strict refuses "
                        f"such a file")
        result = pd.concat([df, scored], axis=1)
        if notice:  # after the checks: an error stays one line on stderr
            common.note(notice)
        common.note_extrapolation(spec, scored, input.name)
        if output is not None:
            from myorisk.myositis.io import write_table

            write_table(result, output)
            if not as_json:
                out.print(f"wrote {output} ({len(result)} patients scored with '{spec.name}')")
        if as_json:
            common.dump({"model": spec.name, "notice": notice,
                         "rows": scored.reset_index().to_dict(orient="records")})
        elif output is None:  # identifier and predictions only: every input column would not fit
            ids = [c for c in ("patient_id",) if c in df.columns]
            shown = pd.concat([df[ids], scored], axis=1).reset_index()
            out.print(common.table(shown, title=f"Predictions of '{spec.name}' (--output FILE writes every column)"))
        return
    if set_:
        values: object = {}
        for item in set_:
            if "=" not in item:
                raise InputError(f"--set must look like VAR=VALUE, not {item!r}")
            k, v = item.split("=", 1)
            if k.strip() in values:  # type: ignore[operator]
                raise InputError(f"--set: '{k.strip()}' is given twice")
            values[k.strip()] = _value(v.strip())  # type: ignore[index]
        source = "--set"
    else:
        if sys.stdin.isatty():
            raise InputError("give --input FILE, --set VAR=VALUE, or one patient as a JSON object on stdin")
        text = sys.stdin.read()
        if not text.strip():
            raise InputError("stdin is empty: give --input FILE, --set VAR=VALUE, or one patient as a JSON "
                             "object on stdin")
        try:
            values = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"stdin: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
        source = "stdin"
    names = [v.name for v in spec.variables]
    unknown = sorted(set(values) - set(names)) if isinstance(values, dict) else []
    if unknown:
        raise InputError(f"{source}: '{unknown[0]}' is not a variable of '{spec.name}' "
                         f"(variables: {', '.join(names)})")
    absent = [n for n in names if n not in values] if isinstance(values, dict) else []
    if absent:
        how = "--set VAR=VALUE" if source == "--set" else "a key of the JSON object"
        raise InputError(f"{source}: no value for {', '.join(repr(a) for a in absent)} (model '{spec.name}' "
                         f"needs {', '.join(names)}; give each as {how})")
    try:
        res = predict_one(spec, values, source=source, extrapolate=extrapolate or None)
    except InputError as e:  # one patient: no rows, the variables are named as typed
        from myorisk.errors import Problem

        probs = [Problem(source, None, p.column, p.value, p.rule) if p.column else p for p in e.problems]
        if any(p.column for p in e.problems):
            words = "; ".join(f"'{p.column}': " + ("" if p.value is None else f"'{p.value}' ") + p.rule
                              for p in probs)
            raise InputError(f"{source}: {words}", problems=probs) from None
        raise
    if notice:
        common.note(notice)
    if res.get("extrapolated"):
        common.note(f"{source}: the prediction extrapolates beyond the range '{spec.name}' was developed on "
                    f"({', '.join(res['extrapolated'])})")
    if as_json:
        common.dump(res)
        return
    out.print(f"Model '{spec.name}': predicted probability {res['probability']:.4f} "
              f"(linear predictor {res['linear_predictor']:.4f})")
    fr = pd.DataFrame([{"variable": k, "points": v} for k, v in res["points"].items()]
                      + [{"variable": "total", "points": res["points_total"]}])
    out.print(common.table(fr, title="Nomogram points"))
