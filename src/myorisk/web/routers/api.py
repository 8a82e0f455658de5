"""JSON API: ``GET /api/models``, ``GET /api/models/{name}``, ``POST /api/models/{name}/predict``.

Each model gets its own predict route so that the OpenAPI document describes its input (names,
types, units, ranges, levels). The body is one patient (object) or a list of them; the answer is
the same keys as ``myorisk predict --json`` (a list for a list).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from myorisk.errors import InputError
from myorisk.web.registry import ModelEntry, allowed_text
from myorisk.web.scoring import (
    MAX_PATIENTS,
    FieldError,
    RecordsInvalid,
    parse_json,
    predict_records,
    validate_records,
)

__all__ = ["build_router", "PredictResult", "ErrorResponse"]


class PredictResult(BaseModel):
    """One patient's prediction (the keys of ``myorisk predict --json``)."""

    probability: float = Field(..., ge=0, le=1, description="Predicted probability of the event.")
    linear_predictor: float = Field(..., description="Log-odds of the event.")
    points: dict[str, float] = Field(..., description="Nomogram points of each predictor.")
    points_total: float = Field(..., description="Total nomogram points.")
    model: str = Field(..., description="The model's name.")
    notice: str | None = Field(..., description="The reconstructed-model caveat, beside every "
                                                "result of a reconstructed model (else null).")


class ErrorItem(BaseModel):
    """One refused field."""

    loc: list[str | int] = Field(..., description='Where: ["body", "gi_vas"] or ["body", 2, "sex"].')
    msg: str = Field(..., description="What is wrong and what is allowed.")
    type: str = Field(..., description="Machine-readable error kind.")


class ErrorResponse(BaseModel):
    """Invalid input (422)."""

    detail: list[ErrorItem]


class NotFound(BaseModel):
    """Unknown model (404)."""

    detail: str


class Refused(BaseModel):
    """A request refused as a whole (413 too large, 415 not JSON): what to send instead."""

    detail: str


class ModelSummary(BaseModel):
    """A served model, briefly."""

    name: str
    title: str
    status: str = Field(..., description="published | reconstructed | fitted | recalibrated")
    reconstructed: bool
    origin: str = Field(..., description="bundled (published with myorisk) or file (--models)")
    outcome: dict[str, str]
    variables: list[str]
    intended_use: str | None


class ModelDetail(ModelSummary):
    """A served model in full: spec, risk bands, nomogram and input schema."""

    notice: str | None
    spec: dict[str, Any]
    risk_bands: dict[str, Any]
    nomogram: dict[str, Any]
    input_schema: dict[str, Any]


def _not_found(models: dict[str, ModelEntry], name: str) -> HTTPException:
    return HTTPException(404, f"unknown model '{name}': served models are "
                              f"{', '.join(sorted(models))}")


#: Request bodies up to this size (about 40 patients) are scored inline on the event loop.
INLINE_BYTES = 4096


def _predict_endpoint(entry: ModelEntry) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    def work(raw: bytes) -> tuple[list[dict], bool]:
        body = parse_json(raw)
        records, many = validate_records(entry, body)
        try:
            results = predict_records(entry, records)
        except InputError as e:  # pragma: no cover - the input model refuses the same values
            raise RecordsInvalid([FieldError(("body",), str(e), "value_error")]) from None
        notice = entry.spec.notice()
        return [{**r, "model": entry.name, "notice": notice} for r in results], many

    async def predict(request: Request) -> Any:
        raw = await request.body()
        # a few patients take well under a millisecond: scored on the event loop, without the
        # two thread hand-offs that dominate a small request's latency on a busy machine;
        # larger bodies (up to 10,000 patients) run in the thread pool, keeping the loop free
        if len(raw) <= INLINE_BYTES:
            results, many = work(raw)
        else:
            results, many = await run_in_threadpool(work, raw)
        return results if many else results[0]

    predict.__doc__ = (
        f"Predict with **{entry.spec.title}**. Body: one patient as a JSON object with "
        + ", ".join(f"`{v.name}` ({allowed_text(v)})" for v in entry.spec.variables)
        + f", or a list of up to {MAX_PATIENTS} such objects. Other keys are ignored."
        + (f"\n\n{entry.spec.notice()}" if entry.spec.notice() else "")
    )
    return predict


def build_router(models: dict[str, ModelEntry]) -> APIRouter:
    """The API routes for ``models``."""
    router = APIRouter(prefix="/api", tags=["models"])

    @router.get("/models", response_model=list[ModelSummary], summary="List the served models")
    async def list_models() -> list[dict]:
        """Every model the calculator serves: bundled published models, then --models files."""
        return [e.summary() for e in models.values()]

    @router.get("/models/{name}", response_model=ModelDetail, summary="One model in full",
                responses={404: {"model": NotFound, "description": "Unknown model"}})
    async def get_model(name: str) -> dict:
        """The model's spec (variables, coefficients, provenance), risk bands, nomogram and the
        JSON schema of its input."""
        if name not in models:
            raise _not_found(models, name)
        return models[name].detail()

    for entry in models.values():
        schema_ref = {"$ref": f"#/components/schemas/{entry.input_model.__name__}"}
        router.add_api_route(
            f"/models/{entry.name}/predict",
            _predict_endpoint(entry),
            methods=["POST"],
            response_model=PredictResult | list[PredictResult],
            summary=f"Predict: {entry.name}",
            operation_id=f"predict_{entry.name.replace('-', '_').replace('.', '_')}",
            responses={422: {"model": ErrorResponse,
                             "description": "Invalid input: one message per refused field"},
                       413: {"model": Refused, "description": "Request body too large"},
                       415: {"model": Refused,
                             "description": "Not JSON: send Content-Type: application/json"}},
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"oneOf": [schema_ref, {"type": "array", "items": schema_ref,
                                                  "minItems": 1, "maxItems": MAX_PATIENTS}]}}}}},
        )

    @router.post("/models/{name}/predict", include_in_schema=False)
    async def predict_unknown(name: str) -> None:
        raise _not_found(models, name)

    return router
