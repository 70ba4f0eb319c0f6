"""The return desk's cases API (docs/integrators.md, Cases). Everyone signs in with Ethereum first
(api/http/auth); who may do what is read from the chain at the head block, stated as `block`:

    POST /v1/cases                  the order's buyer asks for a person, with their text (stored: their consent)
    GET  /v1/cases                  staff: their organisation's open cases; anyone else: their own as buyer
    GET  /v1/cases/{id}             the buyer, the merchant's organisation, auditors
    POST /v1/cases/{id}/notes       staff: {"text"}
    POST /v1/cases/{id}/offer       staff: {"option": {...}} (the buyer signs it in their flow)
    POST /v1/cases/{id}/escalate    staff on the merchant's side: the openDispute transaction for their wallet
    POST /v1/cases/{id}/close       staff: {"outcome"}
    POST /v1/cases/erase            the signed-in buyer's texts, all of them, deleted now
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from returntrace.mediation import routes_for

from ...chain.parties import Standing
from ...errors import ApiError, storable
from ...store.cases import Case
from ...write.cases import CaseDesk
from ..auth.session import CurrentAccount, CurrentStanding
from ..deps import CaseDeskDep
from ..responses import CaseListOut, CaseOut, CaseViewOut, ErasureOut, EscalationOut

router = APIRouter(tags=["cases"])

MAX_TEXT_CHARS = 2000  # the assistant's limit (returntrace.assistant.MAX_TEXT_CHARS)


class AskForPerson(BaseModel):
    orderId: int = Field(ge=0, le=2**63 - 1)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class Offer(BaseModel):
    option: dict[str, Any]


class Close(BaseModel):
    outcome: str = Field(min_length=1, max_length=200)


def is_staff_of(who: Standing, case: Case) -> bool:
    return who.is_staff and who.organization == case.organization


def role_in(who: Standing, case: Case) -> str | None:
    """How `who` sees `case`: "staff", "auditor", "buyer", or None (not at all)."""
    if is_staff_of(who, case):
        return "staff"
    if who.auditor:
        return "auditor"
    if case.buyer is not None and who.account == case.buyer:
        return "buyer"
    return None


def case_view(desk: CaseDesk, case: Case, role: str) -> dict[str, Any]:
    """A case as `role` sees it: the buyer without the staff's log and notes; staff and auditors all."""
    out: dict[str, Any] = {
        "id": case.id,
        "orderId": case.order_id,
        "unit": {"gtin": case.gtin, "serial": case.serial, "unitId": case.unit_id},
        "history": case.history,
        "status": case.status,
        "assessment": {"language": case.language, "reason": case.reason, "confidence": case.confidence},
        "handoff": {"why": list(case.why), "urgent": case.urgent},
        "openedAt": case.opened_at,
        "sla": desk.sla(case),
        "offer": case.offer,
        "dispute": _dispute_for(case, role),
        "mediation": mediation(case),
        "closedAt": case.closed_at,
        "outcome": case.outcome,
        "texts": desk.texts(case.id),
    }
    if role != "buyer":
        out["buyer"] = case.buyer
        out["organization"] = case.organization
        out["log"] = [
            {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in desk.store.log(case.id)
        ]
        out["notifications"] = [
            {"id": n.id, "contact": n.contact, "status": n.status, "attempts": n.attempts, "sentAt": n.sent_at}
            for n in desk.store.notifications(case.id)
        ]
    return out


def _dispute_for(case: Case, role: str) -> dict[str, Any] | None:
    """The dispute as `role` sees it: the buyer without the staff's prepared transaction."""
    if case.dispute is None or role != "buyer":
        return case.dispute
    return {k: v for k, v in case.dispute.items() if k not in ("transaction", "preparedBlock")}


def mediation(case: Case) -> dict[str, Any] | None:
    """For a case in the on-chain dispute: the arbiter's deadline, and where to turn if it is not resolved."""
    if case.dispute is None or "block" not in case.dispute:
        return None
    table = routes_for(case.market)
    return {
        "decideBy": case.dispute["decideBy"],
        "arbiterTimeout": case.dispute["arbiterTimeout"],
        "atBlock": case.dispute["block"],
        "routes": [{"name": r.name, "what": r.what, "url": r.url} for r in table.routes] if table else [],
        "sources": list(table.sources) if table else [],
    }


def find_case(desk: CaseDesk, case_id: int, who: Standing) -> tuple[Case, str]:
    found = desk.store.get(storable(case_id, "case id"))
    if found is None:
        raise ApiError(404, "unknown_case", f"there is no case {case_id}")
    role = role_in(who, found)
    if role is None:  # before anything is recorded: a stranger's read writes nothing
        raise ApiError(
            403,
            "not_a_party",
            f"{who.account} is neither the buyer, staff of the merchant's organisation nor an auditor "
            f"(chain read at block {who.block})",
            block=who.block,
        )
    (case,) = desk.record_disputes([found])
    return case, role


def staff_case(desk: CaseDesk, case_id: int, who: Standing) -> Case:
    case, role = find_case(desk, case_id, who)
    if role != "staff":
        raise ApiError(
            403,
            "not_staff",
            "only staff of the merchant's organisation (MERCHANT_STAFF or brand key) act on a case",
            block=who.block,
        )
    return case


@router.post("/v1/cases", status_code=201, response_model=CaseOut, summary="The order's buyer asks for a person")
def ask_for_person(body: AskForPerson, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    case = desk.open_case(
        None, order_id=body.orderId, unit=None, buyer=who.account, why=("asked_for_person",), text=body.text
    )
    return case_view(desk, case, "buyer")


@router.get("/v1/cases", response_model=CaseListOut, summary="Staff: the organisation's open cases; a buyer: their own")
def list_cases(who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    if who.is_staff:
        cases, role = desk.store.of_organization(who.organization), "staff"
    else:
        cases, role = desk.store.of_buyer(who.account), "buyer"
    cases = desk.record_disputes(cases)
    return {"block": who.block, "role": role, "cases": [case_view(desk, c, role) for c in cases]}


@router.post("/v1/cases/erase", response_model=ErasureOut, summary="Erase every text the signed-in buyer wrote")
def erase(account: CurrentAccount, desk: CaseDeskDep) -> dict[str, Any]:
    erased = desk.erase(account.account, {"session": account.session.message_digest})
    return {"account": account.account, "erased": sum(erased.values()), "cases": sorted(erased)}


@router.get(
    "/v1/cases/{case_id}",
    response_model=CaseViewOut,
    summary="A case, as its buyer, its merchant's staff or an auditor sees it",
)
def get_case(case_id: int, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    case, role = find_case(desk, case_id, who)
    return {"block": who.block, "role": role, **case_view(desk, case, role)}


@router.post("/v1/cases/{case_id}/notes", response_model=CaseOut, summary="Staff write a note")
def note(case_id: int, body: Note, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    case = desk.note(staff_case(desk, case_id, who), who.account, body.text)
    return case_view(desk, case, "staff")


@router.post(
    "/v1/cases/{case_id}/offer",
    response_model=CaseOut,
    summary="Staff offer an option; the buyer signs it in their flow",
)
def offer(case_id: int, body: Offer, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    if len(str(body.option)) > 4000:
        raise ApiError(400, "invalid_offer", "an offer is at most 4000 characters of JSON")
    case = desk.offer(staff_case(desk, case_id, who), who.account, body.option)
    return case_view(desk, case, "staff")


@router.post(
    "/v1/cases/{case_id}/escalate", response_model=EscalationOut, summary="Staff escalate to the on-chain dispute"
)
def escalate(case_id: int, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    case, tx = desk.escalate(staff_case(desk, case_id, who), who.account)
    return {"transaction": tx, "case": case_view(desk, case, "staff")}


@router.post("/v1/cases/{case_id}/close", response_model=CaseOut, summary="Staff close a case")
def close(case_id: int, body: Close, who: CurrentStanding, desk: CaseDeskDep) -> dict[str, Any]:
    case = desk.close(staff_case(desk, case_id, who), who.account, body.outcome)
    return case_view(desk, case, "staff")
