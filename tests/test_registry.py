"""Registry domain functions on SQLite and on a real PostgreSQL server (tests/registry_support.py):
migrations, patients with baseline, predictions with model version and spec hash, follow-up with
the TIS, outcomes linked to predictions, versioned edits with an audit trail, access rules,
idempotent writes, rate-limited logins, pseudonymised export."""

from __future__ import annotations

import pandas as pd
import pytest

from myorisk.modeling.spec import predict_one
from myorisk.myositis.criteria import eular_acr_2017
from myorisk.myositis.tis import total_improvement_score
from myorisk.published import load_model
from myorisk.registry.access import (
    AccessDenied,
    Conflict,
    Invalid,
    NotAuthenticated,
    Principal,
    RateLimited,
)
from myorisk.registry.service import Registry

pytestmark = [pytest.mark.db]

BASE = {"age": 50, "age_onset": 49, "sex": "male", "subtype": "DM", "msuvmax": 2.1,
        "biopsy_done": 1, "biopsy_bundle_atrophy": 1, "anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5,
        "weak_prox_upper": 1, "weak_prox_lower": 1, "neck_flexor_weak": 0,
        "leg_prox_weaker_distal": 0, "heliotrope": 1, "gottron_papules": 1, "gottron_sign": 0,
        "dysphagia": 0, "anti_jo1": 0, "enzymes_raised": 1,
        "pga_bl": 6, "ptga_bl": 5, "mmt8_bl": 60, "haq_bl": 1.5, "extramuscular_bl": 4,
        "ck_bl": 3000, "date_bl": "2026-01-05"}
FU = {"pga_fu": 5.5, "ptga_fu": 5, "mmt8_fu": 61, "haq_fu": 1.5, "extramuscular_fu": 4,
      "ck_fu": 2900, "date_fu": "2026-03-30", "refractory": 1}
ADMIN = Principal.system()


@pytest.fixture
def reg(db_url: str) -> Registry:
    r = Registry.open(db_url, create=True)
    r.add_user("ann", "clinician", "password-ann", site="Qingdao")
    r.add_user("bob", "clinician", "password-bob", site="Liaocheng")
    r.add_user("rita", "researcher", "password-rita")
    yield r
    r.close()


def _who(reg: Registry, name: str) -> Principal:
    return reg.principal_from_token(reg.issue_token(name))


def test_migrations_match_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from myorisk.registry.db import HEAD, current_revision
    from myorisk.registry.models import Base

    reg = Registry.open(db_url, create=True)
    assert current_revision(reg.engine) == HEAD
    with reg.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    reg.close()
    Registry.open(db_url).close()  # opening again is a no-op


def test_patient_visit_outcome_and_predictions(reg: Registry) -> None:
    ann = _who(reg, "ann")
    pid, created = reg.create_patient(ann, "Qingdao", "Q-001", BASE, idempotency_key="a1")
    assert created
    assert reg.create_patient(ann, "Qingdao", "Q-001", BASE, idempotency_key="a1") == (pid, False)
    with pytest.raises(Conflict):
        reg.create_patient(ann, "Qingdao", "Q-001", BASE)
    vid, created = reg.add_visit(ann, pid, "week12", FU, idempotency_key="v1")
    assert created and reg.add_visit(ann, pid, "week12", FU, idempotency_key="v1") == (vid, False)
    rec = reg.get_patient(ann, pid)
    base = rec["visits"][0]
    assert base["values"]["sex"] == "male" and base["values"]["gi_vas"] == 3.5
    # the criteria and the TIS are the domain code's results on the same values
    crit = eular_acr_2017(pd.DataFrame([BASE]), missing="absent").to_dict()["rows"][0]
    assert base["derived"]["criteria"]["score"] == crit["score"]
    assert base["derived"]["criteria"]["category"] == crit["category"]
    tis = total_improvement_score(pd.DataFrame([{**BASE, **FU}]), enzyme="ck").to_dict()["rows"][0]
    fu = rec["visits"][1]["derived"]["tis"]
    assert fu["tis"] == tis["tis"] and fu["nonresponse"] == tis["nonresponse"] == 1
    # one prediction per published model whose predictors are present, with provenance
    preds = {p["model"]: p for p in rec["predictions"]}
    assert set(preds) == {"redmi", "pmdm-noninvasive", "pmdm-comprehensive"}
    for name, p in preds.items():
        spec = load_model(name)
        want = predict_one(spec, {v.name: BASE[v.name] for v in spec.variables})
        assert p["probability"] == pytest.approx(want["probability"], rel=1e-12)
        assert len(p["spec_hash"]) == 64 and "myorisk" in p["model_version"]
        assert p["inputs"] == {v.name: BASE[v.name] for v in spec.variables}
        assert p["source"] == "entry" and p["computed_at"]
    outs = {o["name"]: o["value"] for o in rec["outcomes"]}
    assert outs == {"nonresponse": 1, "refractory": 1}


def test_edits_are_versions_with_an_audit_trail(reg: Registry) -> None:
    ann = _who(reg, "ann")
    pid, _ = reg.create_patient(ann, "Qingdao", "Q-002", BASE)
    before = reg.get_patient(ann, pid)
    old = {p["model"]: p["probability"] for p in before["predictions"]}
    v = reg.edit_visit(ann, before["visits"][0]["id"], {"gi_vas": 8.0}, "typo in GI VAS")
    assert v == 2
    after = reg.get_patient(ann, pid)
    assert after["visits"][0]["values"]["gi_vas"] == 8 and after["visits"][0]["versions"] == 2
    redmi = [p for p in after["predictions"] if p["model"] == "redmi"]
    assert [p["current"] for p in redmi] == [False, True]  # the old one kept, superseded
    assert redmi[0]["probability"] == old["redmi"] and redmi[1]["probability"] > old["redmi"]
    assert after["history"][-1]["by"] == "ann" and after["history"][-1]["reason"] == "typo in GI VAS"
    log = reg.audit_log(ADMIN)
    upd = next(a for a in log if a["action"] == "update")
    assert upd["detail"]["fields"] == ["gi_vas"] and upd["detail"]["by"] == "ann"
    assert "8" not in str(upd["detail"]) and "3.5" not in str(upd["detail"])  # no values
    reads = [a for a in log if a["action"] == "read" and a["entity"] == "patient"]
    assert len(reads) == 2 and all(a["entity_id"] == pid for a in reads)
    with pytest.raises(Invalid, match="reason"):
        reg.edit_visit(ann, before["visits"][0]["id"], {"gi_vas": 2}, "")


def test_access_rules(reg: Registry) -> None:
    ann, bob, rita = _who(reg, "ann"), _who(reg, "bob"), _who(reg, "rita")
    pid, _ = reg.create_patient(ann, "Qingdao", "Q-003", BASE)
    with pytest.raises(AccessDenied, match="another site"):
        reg.get_patient(bob, pid)
    with pytest.raises(AccessDenied):
        reg.add_visit(bob, pid, "week12", FU)
    with pytest.raises(AccessDenied):
        reg.create_patient(bob, "Qingdao", "Q-004", BASE)
    with pytest.raises(AccessDenied):
        reg.create_patient(rita, "Qingdao", "Q-005", BASE)
    with pytest.raises(AccessDenied):
        reg.get_patient(rita, pid)
    assert [p["patient_id"] for p in reg.list_patients(bob)] == []
    assert [p["patient_id"] for p in reg.list_patients(ann)] == ["Q-003"]
    with pytest.raises(NotAuthenticated):
        reg.principal_from_token("myo_not-a-token")
    with pytest.raises(AccessDenied):
        reg.audit_log(ann)


def test_validation_names_the_field(reg: Registry) -> None:
    with pytest.raises(Invalid) as e:
        reg.create_patient(ADMIN, "Qingdao", "Q-006", {**BASE, "age": 150, "ck": "lots",
                                                       "shoe_size": 42})
    fields = {x["field"] for x in e.value.errors}
    assert fields == {"shoe_size"}  # unknown names first, before any value is read
    with pytest.raises(Invalid) as e:
        reg.create_patient(ADMIN, "Qingdao", "Q-006", {**BASE, "age": 150, "ck": "lots"})
    assert {x["field"] for x in e.value.errors} == {"age", "ck"}
    pid, _ = reg.create_patient(ADMIN, "Qingdao", "Q-006", BASE)
    with pytest.raises(Invalid) as e:
        reg.add_visit(ADMIN, pid, "week12", {**FU, "date_fu": "2025-01-01"})
    assert e.value.errors[0]["field"] == "date_fu"
    with pytest.raises(Invalid, match="contradicts the TIS"):
        reg.add_visit(ADMIN, pid, "week12", {**FU, "nonresponse": 0})
    assert len(reg.get_patient(ADMIN, pid)["visits"]) == 1  # nothing half-written


def test_failed_logins_are_rate_limited(reg: Registry) -> None:
    p, cookie, csrf = reg.login("ann", "password-ann")
    assert p.site_code == "Qingdao" and reg.principal_from_session(cookie)[1] == csrf
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            reg.login("ann", "wrong")
    with pytest.raises(RateLimited):
        reg.login("ann", "password-ann")  # even the right password, until the window passes
    reg.login("bob", "password-bob")  # other names are not affected


def test_pseudonymised_export_for_researchers(reg: Registry) -> None:
    ann, rita = _who(reg, "ann"), _who(reg, "rita")
    pid, _ = reg.create_patient(ann, "Qingdao", "Q-007", BASE)
    reg.add_visit(ann, pid, "week12", FU)
    full = reg.export_frame(ann)
    pseudo = reg.export_frame(rita)
    assert full.loc[0, "patient_id"] == "Q-007" and full.loc[0, "date_bl"] == "2026-01-05"
    assert pseudo.loc[0, "patient_id"].startswith("P-") and "Q-007" not in pseudo.to_csv()
    assert "date_bl" not in pseudo and pseudo.loc[0, "fu_days"] == 84
    assert pseudo.loc[0, "prob_redmi"] == full.loc[0, "prob_redmi"]
    assert reg.export_frame(rita).loc[0, "patient_id"] == pseudo.loc[0, "patient_id"]  # stable
