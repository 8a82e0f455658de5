"""HTML pages: model list, one calculator per model, batch scoring, API help.

Every page is rendered on the server and works without JavaScript: the calculator is a plain
form POSTed back to its own address, which answers with the result (or the refused fields) on the
same page. Values are taken from the POST body only, never from the address, so they appear in no
access log and no browser history entry.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException
from starlette.requests import Request

from myorisk import __version__
from myorisk.errors import InputError
from myorisk.modeling.spec import VariableSpec
from myorisk.web.batch import run_batch
from myorisk.web.registry import BINARY_FALSE, BINARY_TRUE, ModelEntry, allowed_text, band_of
from myorisk.web.scoring import (
    BatchModel,
    content_disposition,
    display_name,
    field_errors,
    predict_records,
    result_columns,
)
from myorisk.web.svg import nomogram_svg

__all__ = ["build_router"]

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
templates.env.globals["version"] = __version__
templates.env.filters["allowed"] = allowed_text


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"


def _text(v: object) -> str:
    """Readable text of a provenance/performance value."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        if len(v) == 2 and all(isinstance(x, int | float) for x in v):
            return f"{_text(v[0])} to {_text(v[1])}"
        return ", ".join(_text(x) for x in v)
    if isinstance(v, Mapping):
        return "; ".join(f"{k.replace('_', ' ')}: {_text(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def _items(raw: object) -> list[dict]:
    """Provenance list entries as ``{title, fields: [(key, text)]}``."""
    out = []
    for it in raw if isinstance(raw, list) else []:
        if isinstance(it, Mapping):
            title = str(it.get("what", ""))
            fields = [(k.replace("_", " ").replace("ci95", "95% CI"), _text(v))
                      for k, v in it.items() if k != "what"]
            out.append({"title": title, "fields": fields})
        else:
            out.append({"title": "", "fields": [("", str(it))]})
    return out


def _flat(d: object, prefix: str = "") -> list[tuple[str, str]]:
    if not isinstance(d, Mapping):
        return [(prefix, _text(d))] if prefix else []
    out: list[tuple[str, str]] = []
    for k, v in d.items():
        key = f"{prefix} {k}".strip().replace("_", " ")
        if isinstance(v, Mapping) and not ("value" in v and len(v) <= 2):
            out += _flat(v, key)
        elif isinstance(v, Mapping):
            ci = v.get("ci95")
            out.append((key, _text(v["value"]) + (f" (95% CI {_text(ci)})" if ci else "")))
        else:
            out.append((key, _text(v)))
    return out


def _value_text(v: VariableSpec, value: object, *, full: bool = False) -> str:
    """A patient's value as text: ``yes``/``no``, the level, or the number with its unit (a unit
    longer than 12 characters only when ``full``, as the nomogram's text alternative reads it)."""
    if v.kind == "binary":
        return "yes" if float(value) == 1 else "no"  # type: ignore[arg-type]
    if v.kind == "categorical":
        return str(value)
    short = v.unit and (full or len(v.unit) <= 12)
    return f"{float(value):g}" + (f" {v.unit}" if short else "")  # type: ignore[arg-type]


def _fields(entry: ModelEntry, values: Mapping[str, str], errors: Mapping[str, str]) -> list[dict]:
    out = []
    for v in entry.spec.variables:
        options = [("0", "No"), ("1", "Yes")] if v.kind == "binary" else [(lv, lv) for lv in v.levels]
        out.append({
            "name": v.name, "label": v.label or v.name, "unit": v.unit, "kind": v.kind,
            "description": v.description, "min": _num(v.min), "max": _num(v.max), "options": options,
            "levels": list(v.levels), "allowed": allowed_text(v),
            "value": values.get(v.name, ""), "error": errors.get(v.name),
        })
    return out


def _provenance(entry: ModelEntry) -> dict:
    prov = entry.spec.provenance
    return {
        "status": entry.spec.status,
        "reconstructed": entry.spec.is_reconstructed,
        "notice": entry.spec.notice(),
        "source": prov.get("source", ""),
        "published": _items(prov.get("published")),
        "reconstructed_items": _items(prov.get("reconstructed")),
        "errata": [_text(e) for e in prov.get("errata", [])],
        "caveats": [_text(e) for e in prov.get("caveats", [])],
        "performance": _flat(entry.spec.performance or {}),
        "lineage": [_text(s) for s in entry.spec.lineage],
        "origin": entry.origin,
    }


def _outcome_label(entry: ModelEntry) -> str:
    """Short outcome phrase: the spec's ``label``, else its description up to the first colon."""
    out = entry.spec.outcome
    if out.get("label"):
        return str(out["label"])
    desc = str(out.get("description") or "")
    head = desc.split(":", 1)[0].strip()
    if ":" in desc and 0 < len(head) <= 100:
        return head[:1].lower() + head[1:] if not head[:2].isupper() else head
    return str(out["name"]).replace("_", " ")


def _page(request: Request, entry: ModelEntry, values: Mapping[str, str] | None = None,
          errors: Mapping[str, str] | None = None, result: dict | None = None,
          status: int = 200, form_error: str | None = None) -> HTMLResponse:
    values, errors = values or {}, errors or {}
    variables = [v.to_dict() for v in entry.spec.variables]
    patient = None
    if result is not None:
        patient = {"points": result["points"], "values": result["values"],
                   "spoken": result["spoken"],
                   "points_total": result["points_total"], "probability": result["probability"],
                   "axes": result.get("axes", {})}
    nomo = entry.nomogram.to_dict()
    svg = nomogram_svg(nomo, variables, patient=patient, outcome_label="Probability",
                       title=f"Nomogram of {entry.spec.title}")
    svg_narrow = nomogram_svg(nomo, variables, patient=patient, outcome_label="Probability",
                              title=f"Nomogram of {entry.spec.title}", stacked=True,
                              id_prefix="nomo-s")
    ctx = {
        "request": request, "entry": entry, "spec": entry.spec, "fields": _fields(entry, values,
                                                                                  errors),
        "errors": [{"name": f["name"], "label": f["label"], "msg": f["error"]}
                   for f in _fields(entry, values, errors) if f["error"]],
        "form_error": form_error, "result": result, "svg": svg, "svg_narrow": svg_narrow, "prov": _provenance(entry),
        "bands": entry.bands, "bands_rationale": entry.bands_rationale,
        "bands_default": entry.bands_default, "outcome_label": _outcome_label(entry),
        "title": entry.spec.title,
    }
    return templates.TemplateResponse(request, "calculator.html", ctx, status_code=status)


def _result(entry: ModelEntry, record: Any) -> dict:
    res = predict_records(entry, [record])[0]
    p = res["probability"]
    band = band_of(p, entry.bands_all)
    scale = entry.nomogram.scale
    maxscale = entry.nomogram.maxscale
    data = record.model_dump()
    values = {v.name: _value_text(v, data[v.name]) for v in entry.spec.variables}
    spoken = {v.name: _value_text(v, data[v.name], full=True) for v in entry.spec.variables}
    contributions = []
    # a factor interacting with a predictor has no points of its own: it is read on that
    # predictor's axis for its level (rms), and shown in the predictor's row
    absorbed = {g[0]: g[1] for g in entry.nomogram.groups}
    for v in entry.spec.variables:
        if v.name not in res["points"]:
            continue
        pts = res["points"][v.name]
        others = [entry.spec.variable(o) for o in absorbed.get(v.name, ())]
        contributions.append({
            "name": v.name,
            "label": " × ".join([v.label or v.name, *[o.label or o.name for o in others]]),
            "value": ", ".join([values[v.name], *[values[o.name] for o in others]]), "points": pts,
            "odds": math.exp(pts / scale), "bar": max(0.0, min(1.0, pts / maxscale)),
        })
    axes = entry.nomogram.patient_axes(data)
    return {**res, "band": band, "values": values, "spoken": spoken, "contributions": contributions,
            "percent": f"{100 * p:.1f}%", "n_bands": len(entry.bands_all), "axes": axes}


def build_router(models: dict[str, ModelEntry]) -> APIRouter:
    """The HTML routes for ``models``."""
    router = APIRouter(include_in_schema=False)

    def missing(request: Request, name: str) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "error.html",
            {"request": request, "title": "Unknown model", "message":
             f"There is no model called '{name}'.", "models": models}, status_code=404)

    @router.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "index.html", {
            "request": request, "models": models, "title": "Calculators"})

    @router.get("/api", response_class=HTMLResponse)
    async def api_help(request: Request) -> HTMLResponse:
        base = str(request.base_url).rstrip("/")
        examples = {}
        for e in models.values():
            schema = e.input_model.model_json_schema()
            examples[e.name] = schema.get("examples", [{}])[0]
        return templates.TemplateResponse(request, "api.html", {
            "request": request, "models": models, "base": base, "examples": examples,
            "title": "JSON API"})

    @router.get("/models/{name}", response_class=HTMLResponse)
    async def calculator(request: Request, name: str) -> HTMLResponse:
        if name not in models:
            return missing(request, name)
        return _page(request, models[name])

    @router.post("/models/{name}", response_class=HTMLResponse)
    async def calculate(request: Request, name: str) -> HTMLResponse:
        if name not in models:
            return missing(request, name)
        entry = models[name]
        try:
            form = await request.form(max_files=0, max_fields=100)
        except HTTPException as e:
            return _page(request, entry, status=400,
                         form_error=f"the form could not be read ({e.detail})")
        values = {v.name: str(form.get(v.name, "")).strip()[:100] for v in entry.spec.variables}
        data = {k: val for k, val in values.items() if val != ""}
        for v in entry.spec.variables:  # "yes" ticks the Yes button when the page comes back
            if v.kind == "binary":
                word = values[v.name].lower()
                values[v.name] = "1" if word in BINARY_TRUE else "0" if word in BINARY_FALSE \
                    else values[v.name]
        try:
            # form fields are text: numbers are read as batch CSV cells are (see _number)
            record = entry.input_model.model_validate(data, strict=True, context={"text": True})
        except ValidationError as e:
            errs: dict[str, str] = {}
            for fe in field_errors(entry, e, ()):
                key = next((p for p in fe.loc if isinstance(p, str)), "")
                errs.setdefault(key, fe.msg)
            return _page(request, entry, values, errs, status=422)
        try:
            result = _result(entry, record)
        except InputError as e:  # pragma: no cover - the input model refuses the same values
            return _page(request, entry, values, status=422, form_error=str(e))
        return _page(request, entry, values, result=result)

    @router.get("/models/{name}/nomogram.svg")
    async def nomogram_file(request: Request, name: str) -> Response:
        if name not in models:
            return missing(request, name)
        e = models[name]
        svg = nomogram_svg(e.nomogram.to_dict(), [v.to_dict() for v in e.spec.variables],
                           outcome_label="Probability",
                           title=f"Nomogram of {e.spec.title}")
        return Response(svg, media_type="image/svg+xml")

    @router.get("/models/{name}/template.csv")
    async def template_csv(request: Request, name: str) -> Response:
        if name not in models:
            return missing(request, name)
        header = ",".join(["patient_id", *[v.name for v in models[name].spec.variables]]) + "\n"
        return Response(header, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": content_disposition(f"{name}-template.csv")})

    @router.get("/models/{name}/batch", response_class=HTMLResponse)
    async def batch_form(request: Request, name: str) -> HTMLResponse:
        if name not in models:
            return missing(request, name)
        return _batch_page(request, models[name])

    @router.post("/models/{name}/batch")
    async def batch(request: Request, name: str) -> Response:
        if name not in models:
            return missing(request, name)
        entry = models[name]
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException as e:  # malformed multipart: Starlette's words, on the page
            return _batch_page(request, entry, status=400, problems=[{
                "row": None, "column": None,
                "message": f"the upload could not be read ({e.detail}); choose the file with "
                           "the form below"}])
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            return _batch_page(request, entry, problems=[{"row": None, "column": None,
                                                          "message": "choose a CSV file"}])
        limit = request.app.state.max_upload_bytes
        data = await upload.read(limit + 1)
        await upload.close()
        filename = display_name(upload.filename)
        if len(data) > limit:  # pragma: no cover - the body limit stops it before
            return _batch_page(request, entry, status=413, problems=[{
                "row": None, "column": None,
                "message": f"the file is larger than {limit / 2**20:g} MB"}])
        # reading, scoring and writing a large file take seconds: off the event loop, so that
        # other requests (single predictions) are answered meanwhile (see run_batch)
        outcome = await run_batch(request.app, BatchModel.of(entry), data, filename)
        if isinstance(outcome, list):
            return _batch_page(request, entry, problems=outcome, filename=filename)
        payload, renamed = outcome
        stem = Path(filename).stem or "scored"
        headers = {"content-disposition": content_disposition(
            f"{stem}-{entry.name}-scored.csv")}
        if renamed:  # reported, never silent: your column 'probability' is now 'probability_1'
            headers["x-myorisk-renamed-columns"] = json.dumps(renamed)[:2000]
        if entry.spec.notice():
            headers["x-myorisk-notice"] = json.dumps(entry.spec.notice())[:2000]
        if len(payload) <= _CHUNK:
            return Response(payload, media_type="text/csv; charset=utf-8", headers=headers)
        # a large download goes out in chunks: handed to the server at once, 100 MB would sit
        # in one send buffer that the event loop shifts after every write to the socket
        headers["content-length"] = str(len(payload))
        return StreamingResponse(_chunks(payload), media_type="text/csv; charset=utf-8",
                                 headers=headers)

    return router


_CHUNK = 256 * 1024


async def _chunks(payload: bytes) -> AsyncIterator[bytes]:
    view = memoryview(payload)
    for i in range(0, len(view), _CHUNK):
        yield bytes(view[i:i + _CHUNK])


def _batch_page(request: Request, entry: ModelEntry, problems: list[dict] | None = None,
                filename: str | None = None, status: int | None = None) -> HTMLResponse:
    limit = getattr(request.app.state, "max_upload_bytes", 20 * 2**20)
    return templates.TemplateResponse(request, "batch.html", {
        "request": request, "entry": entry, "spec": entry.spec, "problems": problems or [],
        "filename": filename, "prov": _provenance(entry), "title": f"Batch: {entry.spec.title}",
        "bands": entry.bands, "result_columns": result_columns(entry),
        "max_upload_mb": f"{limit / 2**20:g}",
    }, status_code=status or (422 if problems else 200))
