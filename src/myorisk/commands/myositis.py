"""Myositis commands: ``criteria``, ``tis``, ``check``, ``derive`` — all through the cohort loader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.commands._common import DataArg, DecimalOpt, EncodingOpt, JsonOpt, SepOpt, out
from myorisk.errors import InputError

MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", "-m", help="Mapping file (YAML or CSV) from your column names to the canonical ones."),
]




def criteria(
    data: DataArg,
    mapping: MappingOpt = None,
    biopsy: Annotated[str, typer.Option("--biopsy", help="auto (use biopsy items when biopsy_done), without or with.")] = "auto",
    missing: Annotated[str, typer.Option("--missing", help="Missing items: error, absent (score 0) or skip the patient.")] = "error",
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """EULAR/ACR 2017 classification criteria: score, probability, category, subgroup, biopsy advice."""
    from myorisk.myositis import cohort
    from myorisk.myositis.criteria import eular_acr_2017

    c = cohort.load(data, mapping=_mapping(mapping), encoding=encoding, sep=sep, decimal=decimal)
    common.note_read(c.data, data.name)
    try:
        r = eular_acr_2017(c.data, biopsy=biopsy, missing=missing, source=c.source)
    except InputError as e:  # the instrument speaks Python; the user typed options
        if e.option and e.option[0] == "missing":
            raise e.with_hint(" or ".join(f"--missing {v}" for v in e.option[1]) + " to allow") from None
        raise
    for msg in r.notes:
        common.note(msg)
    if as_json:
        common.dump(r.to_dict())
        return
    out.print(common.table(r.to_frame(), title="EULAR/ACR 2017 classification criteria"))


def tis(
    data: DataArg,
    mapping: MappingOpt = None,
    enzyme: Annotated[str, typer.Option("--enzyme", help="auto, most_abnormal, ck, aldolase, ldh, ast, alt or enzyme (auto: "
                                                   "enzyme_bl/_fu when present, else most_abnormal with *_uln columns, "
                                                   "else ck).")] = "auto",
    population: Annotated[str, typer.Option("--population", help="adult, juvenile or auto (by age).")] = "adult",
    zero_baseline: Annotated[str, typer.Option("--zero-baseline", help="zero_points or error.")] = "zero_points",
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Score patients with missing core set measures where the category is still determined.")] = False,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """ACR/EULAR 2016 Total Improvement Score: points per core set measure, TIS, category, response."""
    from myorisk.myositis import cohort
    from myorisk.myositis.tis import total_improvement_score

    c = cohort.load(data, mapping=_mapping(mapping), encoding=encoding, sep=sep, decimal=decimal)
    common.note_read(c.data, data.name)
    if enzyme == "auto":
        enzyme, why = cohort.default_enzyme(c.data.columns)
        if why:
            common.note(why)
    try:
        r = total_improvement_score(c.data, enzyme=enzyme, population=population, zero_baseline=zero_baseline,
                                    missing="allow" if allow_missing else "error", source=c.source)
    except InputError as e:  # the instrument speaks Python; the user typed options
        if e.option and e.option[0] == "missing":
            raise e.with_hint("use --allow-missing to score an incomplete TIS") from None
        raise
    if as_json:
        common.dump(r.to_dict())
        return
    out.print(common.table(r.to_frame(), title="ACR/EULAR 2016 Total Improvement Score"))


def check(
    data: DataArg,
    mapping: MappingOpt = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name or number.")] = None,
    redcap_dictionary: Annotated[Path | None, typer.Option("--redcap-dictionary", help="REDCap data dictionary CSV (DATA is then a REDCap export).")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Check a cohort file: types, ranges, categories, duplicate ids, cross-field rules; missing-data report.

    Exits 2 if any problem is an error."""
    from myorisk.myositis import cohort, io

    if redcap_dictionary is not None:
        df = io.read_redcap(data, redcap_dictionary, encoding=encoding, sep=sep, decimal=decimal)
    else:
        df = io.read_table(data, sheet=_sheet(sheet), encoding=encoding, sep=sep, decimal=decimal)
        common.note_read(df, data.name)
    rep = cohort.check(df, data.name, mapping=_mapping(mapping))
    if as_json:
        common.dump(rep.to_dict())
    else:
        for line in rep.lines():
            out.print(line, markup=False)
        out.print(common.table(rep.missing, title="Missing data per variable",
                               formats={"canonical": lambda v: "yes" if v else "no (not in the data dictionary)",
                                        "pct_missing": lambda v: f"{v:.1f}%"}))
        out.print(f"{len(rep.errors)} error(s), {len(rep.problems) - len(rep.errors)} warning(s)")
    if not rep.ok:  # exit code 2 always comes with a line on stderr
        common.err.print(f"myorisk: error: {data.name}: {len(rep.errors)} error(s) in the cohort file "
                         f"({'listed in the JSON' if as_json else 'listed above'})", markup=False)
        raise typer.Exit(2)


def derive(
    data: DataArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv, .tsv or .xlsx).")],
    mapping: MappingOpt = None,
    pet: Annotated[Path | None, typer.Option("--pet", help="Long-format PET/CT SUVmax readings.")] = None,
    mri: Annotated[Path | None, typer.Option("--mri", help="Long-format MRI readings.")] = None,
    emg: Annotated[Path | None, typer.Option("--emg", help="Long-format EMG site rates.")] = None,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Write the cohort with every derivable variable added (criteria, TIS and response, mSUVmax, MRI score, EMG)."""
    from myorisk.myositis import cohort, io

    if output.resolve() == data.resolve():
        raise InputError(f"--output {output} would overwrite the input file; choose another name")
    c = cohort.load(data, mapping=_mapping(mapping), encoding=encoding, sep=sep, decimal=decimal)
    common.note_read(c.data, data.name)
    how = {"encoding": encoding, "sep": sep, "decimal": decimal}
    res = cohort.derive(c.data, pet=cohort.read_readings(pet, **how) if pet else None,
                        mri=cohort.read_readings(mri, **how) if mri else None,
                        emg=cohort.read_readings(emg, **how) if emg else None, source=c.source)
    io.write_table(res, output)
    info = res.attrs.get("derived", {})
    out.print(f"wrote {output} ({len(res)} rows); added: {', '.join(info.get('added', [])) or 'nothing'}")
    for n in info.get("notes", []):
        common.note(n)


def _mapping(path: Path | None):
    if path is None:
        return None
    from myorisk.myositis.io import read_mapping

    return read_mapping(path)


def _sheet(sheet: str | None) -> str | int | None:
    if sheet is None:
        return None
    return int(sheet) if sheet.isdigit() else sheet
