"""The return assistant: a buyer's own words in, the reason, who answers and what they can do now out.

    POST /v1/assistant/assess   {"text": …, "unit": {"gtin": …, "serial": …}?, "buyer": "0x…"?, "person": false?}

The assistant (returntrace/assistant, loaded once: Services.assistant) names the language, the
reason and whether a person must answer; the gateway adds its own reasons for a person (an order
above RT_HANDOFF_ABOVE, a buyer with RT_HANDOFF_RETURNS returns or more, the buyer asking), and for
a unit whose order the signed-in account bought (Sign-In with Ethereum: api/http/auth), the options
the contract accepts now at a stated block (api/read/options.py). `buyer`, when sent, must be that
account: an order's amounts are its buyer's and merchant's to see, never a claim's in a body.

What is stored: for the order's signed-in buyer, a handoff opens (or joins) the order's case with the
assessment's codes (api/write/cases.py); the buyer's own words only when they ask for a person
(`person`), their consent. Anything else is read and forgotten. Rate-limited per client address
(RT_ASSESS_RATE, RT_ASSESS_BURST): 429 `rate_limited` with Retry-After.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from returntrace import gs1
from returntrace.assistant import MAX_TEXT_CHARS, Assessment
from returntrace.assistant.language import MixedLanguages
from returntrace.i18n import N_

from ...chain.guard import ChainUnavailable
from ...errors import ApiError
from ...read.options import NotBuyer, OptionsFound, person_first
from ...services import Services
from ..auth.session import OptionalAccount, SignedIn
from ..deps import ServicesDep
from ..limits import rate_limited
from ..pages import i18n
from ..pages.i18n import _
from ..responses import Answer
from .messages import require_json

# EU AI Act (Regulation (EU) 2024/1689) Art. 50(1): people are told they deal with an AI system.
NOTICE = N_(  # marked: the flow page shows it in the buyer's language
    "You are using an automated assistant. It suggests the reason for your return and the options the "
    "contract allows; it decides nothing, and it keeps what you write only if you ask for a person. A person "
    "answers whenever you ask for one or the assistant is unsure (EU AI Act, Article 50)."
)
# The assistant's own handoff reasons under which its reason is not used to order the options.
UNSURE = frozenset({"low_confidence", "unknown_language"})
# A unit the buyer can do nothing with now is a 409 with the reason, and nothing is stored — unless the text
# is about a child's safety or the buyer asks for a person, who always answers (a defect is owed for years
# under the legal guarantee, after the return window).
NOTHING_TO_DO = {
    "no_order": "this unit has no order: nothing was bought with it here",
    "not_delivered": "the order is not delivered yet: the return period starts at delivery",
    "return_window_closed": "the order's return period has ended",
}


router = APIRouter(
    tags=["assistant"],
    dependencies=[Depends(rate_limited(lambda s: s.assess_limit, "assessments")), Depends(require_json)],
)


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: str
    serial: str


class AssessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    unit: UnitIn | None = None
    buyer: str | None = None  # if sent, the signed-in account: options are only for the order's buyer
    person: bool = False  # the buyer asks for a person (and consents to keeping these words for them)


class HandoffOut(Answer):
    needed: bool
    why: list[str]
    urgent: bool


class BlockOut(Answer):
    number: int
    hash: str


class OptionOut(Answer):
    kind: str  # exchange | withdrawal | policy_return | refund_on_receipt | reissue | replacement | dispute | person
    statutory: bool
    title: str
    gets: dict[str, Any] | None
    must: str
    deadline: int | None
    message: dict[str, Any] | None  # the signed message (or transaction) it leads to, prefilled
    returnCenters: list[str] | None = None
    withdrawalForm: bool | None = None


class CaseRefOut(Answer):
    id: int
    dueAt: float  # when staff answer by (the case's SLA)
    urgent: bool
    textKept: bool  # the buyer's words were kept for the person (only when they asked for one)


class AssessOut(Answer):
    language: str
    reason: str | None
    confidence: float
    handoff: HandoffOut
    orderId: int | None
    options: list[OptionOut]
    optionsWhy: str | None  # why there are no options but a person (a code), else null
    block: BlockOut | None  # the block the options were read at (null: no unit named)
    case: CaseRefOut | None  # the order's case a handoff opened or joined (null: none, or not signed in)
    automated: bool
    notice: str


def _text(text: str) -> str:
    if not text.strip():
        raise ApiError(400, "empty_text", "the text is empty: say in a few words what is wrong")
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(400, "text_too_long", f"the text has {len(text)} characters, at most {MAX_TEXT_CHARS} are read")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\n\r\t" for c in text):
        raise ApiError(400, "binary_text", "the text holds control or binary characters, not words")
    return text


def _unit_id(unit: UnitIn) -> bytes:
    try:
        return gs1.unit_id(gs1.normalize_gtin(unit.gtin), gs1.validate_serial(unit.serial))
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_serial" if "serial" in str(exc) else "invalid_gtin", f"unit: {exc}") from exc


def _buyer(buyer: str | None, account: SignedIn | None) -> str | None:
    """The buyer the options are for: the signed-in account; `buyer`, when sent, must be it."""
    if buyer is not None:
        if not is_address(buyer):
            raise ApiError(400, "invalid_address", f"buyer {buyer!r} is not an address")
        if account is None:
            raise ApiError(
                401,
                "not_signed_in",
                "an order's options are its buyer's: sign in with Ethereum first (GET /v1/auth/nonce, POST "
                "/v1/auth/siwe), or leave out `buyer` for the assessment alone",
            )
        if to_checksum_address(buyer) != account.account:
            raise ApiError(403, "not_signed_in_as_buyer", f"signed in as {account.account}, not as {buyer}")
    return account.account if account else None


def _options(services: Services, unit: UnitIn, buyer: str | None, assessment: Assessment) -> OptionsFound:
    unit_id = _unit_id(unit)  # checked before the text is read too: a malformed unit costs no assessment
    desk = services.options
    reason = None if UNSURE & set(assessment.why) else assessment.reason
    try:
        at = desk.latest()
        if not desk.unit_exists(unit_id, at):
            raise ApiError(404, "unknown_unit", f"no unit with GTIN {unit.gtin} and serial {unit.serial} is recorded")
        return desk.options(unit_id, at, buyer, reason)
    except NotBuyer as exc:
        raise ApiError(403, "not_buyer", str(exc)) from exc
    except ChainUnavailable as exc:
        raise ApiError(503, "chain_unavailable", f"the chain node did not answer: {exc}") from exc


def _gateway_handoff(services: Services, found: OptionsFound | None, buyer: str | None) -> list[str]:
    """The gateway's own reasons for a person: the order's value, the buyer's returns."""
    why = []
    settings = services.settings
    order = found.order if found else None
    if found is not None and found.block is not None and order is not None:
        try:
            decimals = services.options.reads.currency_decimals(order.market, order.currency, found.block)
        except ChainUnavailable as exc:
            raise ApiError(503, "chain_unavailable", f"the chain node did not answer: {exc}") from exc
        if order.price > settings.handoff_above * 10**decimals:
            why.append("above_value")
    if buyer is not None:
        with services.index.read() as r:
            if r.returns_by(buyer) >= settings.handoff_returns:
                why.append("repeated_returns")
    return why


def _worded(option: dict[str, Any]) -> dict[str, Any]:
    """An option's words in the reader's language (api/read/options.py marks them); amounts, deadlines and
    messages as they are."""
    worded = {k: v for k, v in option.items() if k != "mustValues"}
    worded["title"] = _(option["title"])
    worded["must"] = _(option["must"]) % option["mustValues"] if "mustValues" in option else _(option["must"])
    gets = option.get("gets")
    if gets and "byGrade" in gets:
        worded["gets"] = {**gets, "byGrade": [{**g, "condition": _(g["condition"])} for g in gets["byGrade"]]}
    return worded


@router.post(
    "/v1/assistant/assess",
    response_model=AssessOut,
    summary="Read a buyer's words: reason, language, whether a person answers, and the options now",
)
def assess(body: AssessIn, services: ServicesDep, account: OptionalAccount, request: Request) -> AssessOut:
    """The options' words are in the reader's language (Accept-Language), like the pages'."""
    with i18n.use(i18n.negotiate(None, request.headers.get("accept-language"))):
        return _assess(body, services, account)


def _assess(body: AssessIn, services: ServicesDep, account: OptionalAccount) -> AssessOut:
    text = _text(body.text)
    buyer = _buyer(body.buyer, account)
    if body.unit is not None:
        _unit_id(body.unit)  # a malformed unit is refused before the text is read
    try:
        assessment = services.assistant.assess(text)
    except MixedLanguages as exc:
        raise ApiError(
            422,
            "mixed_languages",
            f"{exc}: the options, and the words a person reads, are in one language",
        ) from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_text", f"the assistant cannot read this text: {exc}") from exc
    found = _options(services, body.unit, buyer, assessment) if body.unit is not None else None
    why = [*assessment.why, *_gateway_handoff(services, found, buyer)]
    if body.person:
        why.append("asked_for_person")
    needed = assessment.handoff or bool(why)
    if found is not None and found.why in NOTHING_TO_DO and not (assessment.urgent or body.person):
        raise ApiError(
            409,
            found.why,
            f"{NOTHING_TO_DO[found.why]}; for a defect or anything else, ask for a person (`person`: true)",
        )
    options = person_first(found.options) if found is not None and needed else found.options if found else []
    case = None
    if needed and buyer is not None and found is not None and found.order_id is not None and body.unit is not None:
        # A person answers: the order's case, with the codes; the words only if the buyer asked for one.
        kept = text if body.person else None
        opened = services.cases.open_case(
            assessment,
            order_id=found.order_id,
            unit={"gtin": body.unit.gtin, "serial": body.unit.serial},
            buyer=buyer,
            why=why,
            text=kept,
        )
        case = CaseRefOut(id=opened.id, dueAt=opened.due_at, urgent=opened.urgent, textKept=kept is not None)
    return AssessOut(
        language=assessment.language,
        reason=assessment.reason,
        confidence=assessment.confidence,
        handoff=HandoffOut(needed=needed, why=list(dict.fromkeys(why)), urgent=assessment.urgent),
        orderId=found.order_id if found else None,
        options=[OptionOut(**_worded(o)) for o in options],
        optionsWhy=found.why if found else None,
        block=BlockOut(number=found.block.number or 0, hash=found.block.hash or "") if found and found.block else None,
        case=case,
        automated=True,
        notice=NOTICE,
    )
