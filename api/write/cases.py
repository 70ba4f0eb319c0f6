"""The return desk's people side: a case for every handoff the assistant or the gateway makes, what
staff do with it (notes, an offer the buyer then signs, escalation to the on-chain dispute, closing),
the buyer's texts under consent and retention, and the product-safety notifications.

    desk.open_case(assessment, order_id=7, unit={"gtin": …, "serial": …}, buyer="0x…",
                   why=("low_confidence",), text=None)

`text` is passed only with the buyer's consent: when they ask for a person (`asked_for_person` in
`why`) or sign a return request; without it the case keeps codes only. Texts are kept
RT_TEXT_RETENTION_DAYS, then purged (at start and on every case write); a buyer erases theirs at once.
Every action goes to the case's append-only log (api/store/cases.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from eth_utils import to_checksum_address

from returntrace import gs1
from returntrace.escrow import OrderStatus, Policy

from ..chain import parties
from ..chain.client import Chain
from ..errors import ApiError
from ..store.cases import CLOSED, ESCALATED, OFFERED, SYSTEM, Case, CaseStore, NewCase, Notification
from ..store.index import SqliteIndex

log = logging.getLogger("returntrace.cases")

# The assistant's handoff reasons (returntrace/assistant) and the gateway's own.
ASSISTANT_REASONS = ("safety_concern", "safety_lexicon", "low_confidence", "unknown_language")
GATEWAY_REASONS = ("above_value", "repeated_returns", "asked_for_person")
HANDOFF_REASONS = ASSISTANT_REASONS + GATEWAY_REASONS
SAFETY = ("safety_concern", "safety_lexicon")
MAX_NOTE_CHARS = 4000


class AssessmentLike(Protocol):
    """The assistant's Assessment (returntrace.assistant), the fields a case keeps."""

    @property
    def language(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def confidence(self) -> float: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def why(self) -> tuple[str, ...]: ...


class Sender(Protocol):
    """Delivers a notification to its contact; raises on failure (the attempt is recorded and retried)."""

    def send(self, notification: Notification) -> None: ...


class LogSender:
    """Writes the notification to the gateway's log: the default, no mail leaves the machine."""

    def send(self, notification: Notification) -> None:
        log.warning(
            "product-safety notification %s to %s: %s", notification.id, notification.contact, notification.subject
        )


class CaseDesk:
    def __init__(
        self,
        chain: Chain,
        store: CaseStore,
        index: SqliteIndex,
        *,
        public_url: str,
        sla_hours: int,
        sla_urgent_hours: int,
        retention_days: int,
        safety_contacts: Mapping[int, str],
        sender: Sender | None = None,
    ) -> None:
        self.chain, self.store, self.index = chain, store, index
        self.public_url = public_url.rstrip("/")
        self.sla_hours, self.sla_urgent_hours = sla_hours, sla_urgent_hours
        self.retention_seconds = retention_days * 86400
        self.safety_contacts = dict(safety_contacts)
        self.sender: Sender = sender or LogSender()

    # ------------------------------------------------------------------ opening

    def open_case(
        self,
        assessment: AssessmentLike | None,
        *,
        order_id: int | None,
        unit: Mapping[str, str] | None,
        buyer: str | None,
        why: tuple[str, ...] | list[str],
        text: str | None,
    ) -> Case:
        """The order's case for this handoff: a new one, or the open one joined. 404 for an unknown
        order or product, 403 when `buyer` is not the order's, 400 for a unit that is not the order's
        or a reason that is not a handoff reason."""
        why = tuple(dict.fromkeys(why))
        unknown = [w for w in why if w not in HANDOFF_REASONS]
        if not why or unknown:
            raise ApiError(400, "invalid_handoff", f"handoff reasons must be some of {', '.join(HANDOFF_REASONS)}")
        block = parties.head(self.chain)
        buyer = to_checksum_address(buyer) if buyer else None
        try:
            unit_id = gs1.unit_id(unit["gtin"], unit["serial"]) if unit else None
            gtin, serial = (gs1.normalize_gtin(unit["gtin"]), unit["serial"]) if unit else (None, None)
        except (gs1.GS1Error, KeyError, TypeError) as exc:
            raise ApiError(400, "invalid_link", f"the unit is not a GTIN and serial: {exc}") from None
        market = None
        if order_id is not None:
            order = parties.parties(self.chain, order_id, block)
            if order is None:
                raise ApiError(404, "unknown_order", f"order {order_id} does not exist at block {block}")
            if buyer is not None and buyer != order.buyer:
                raise ApiError(403, "not_buyer", f"{buyer} is not the buyer of order {order_id}")
            if unit_id is not None and unit_id != order.unit_id:
                raise ApiError(400, "unit_not_in_order", f"the unit is not order {order_id}'s")
            unit_id, buyer, market, organization = order.unit_id, order.buyer, order.market, order.merchant_organization
            if gtin is None:
                gtin, serial = self._keys(unit_id)
        elif gtin is not None:
            found = parties.brand_organization(self.chain, int(gtin), block)
            if found is None:
                raise ApiError(404, "unknown_product", f"GTIN {gtin} is not registered")
            organization = found
        else:
            raise ApiError(400, "nothing_to_answer", "a case needs an order or a unit")
        brand_org = parties.brand_organization(self.chain, int(gtin), block) if gtin else None
        urgent = bool(assessment and assessment.urgent) or any(w in SAFETY for w in why)
        now = time.time()
        new = NewCase(
            order_id=order_id,
            gtin=gtin,
            serial=serial,
            unit_id="0x" + unit_id.hex() if unit_id else None,
            buyer=buyer,
            organization=organization,
            brand_organization=brand_org,
            market=market,
            language=assessment.language if assessment else None,
            reason=assessment.reason if assessment else None,
            confidence=float(assessment.confidence) if assessment else None,
            why=why,
            urgent=urgent,
            history=self._history(unit_id, gtin, serial, block),
            due_at=now + 3600 * (self.sla_urgent_hours if urgent else self.sla_hours),
        )
        consent = None
        if text is not None:
            consent = "asked_for_person" if "asked_for_person" in why else "signed_return_request"
        self.purge()
        case, _ = self.store.open_or_join(new, buyer or SYSTEM, text, consent, now)
        if (urgent or (assessment and assessment.reason == "safety_concern")) and not self.store.notifications(case.id):
            self._notify_safety(case)
        return case

    def _keys(self, unit_id: bytes) -> tuple[str | None, str | None]:
        with self.index.read() as r:
            keys = r.units_keys(["0x" + unit_id.hex()])
        found = keys.get("0x" + unit_id.hex())
        return (found[0], found[1]) if found else (None, None)

    def _history(self, unit_id: bytes | None, gtin: str | None, serial: str | None, block: int) -> dict[str, Any]:
        """Where the unit's verified history is, and its on-chain record at `block` to check it against."""
        if unit_id is None:
            return {}
        record = self.chain.registry.functions.unitRecord(unit_id).call(block_identifier=block)
        return {
            "unitId": "0x" + unit_id.hex(),
            "url": gs1.digital_link(self.public_url, gtin, serial) if gtin and serial else None,
            "record": "0x" + int(record).to_bytes(32, "big").hex(),
            "block": block,
        }

    # ------------------------------------------------------------------ staff actions

    def note(self, case: Case, actor: str, text: str) -> Case:
        _open(case)
        if not text.strip() or len(text) > MAX_NOTE_CHARS:
            raise ApiError(400, "invalid_note", f"a note is 1 to {MAX_NOTE_CHARS} characters")
        return self._touch(self.store.update(case.id, actor, "note", {"text": text}))

    def offer(self, case: Case, actor: str, option: dict[str, Any]) -> Case:
        """Records the option staff offer; the buyer signs it in their own flow (nothing moves here)."""
        _open(case)
        if case.status == ESCALATED:
            raise ApiError(409, "case_escalated", "the case is in the on-chain dispute: the arbiter decides")
        return self._touch(
            self.store.update(case.id, actor, "offered", {"option": option}, status=OFFERED, offer=option)
        )

    def escalate(self, case: Case, actor: str) -> tuple[Case, dict[str, Any]]:
        """The `openDispute(orderId)` transaction for the staff member's wallet to send (the escrow
        takes it from the merchant's side only, and from no relayer): checked by a call from that
        account first, so a transaction that would revert is refused here with the reason."""
        _open(case)
        if case.order_id is None:
            raise ApiError(409, "no_order", "a case without an order has no dispute to open")
        if case.status == ESCALATED:
            raise ApiError(409, "case_escalated", "the case is already escalated")
        block = parties.head(self.chain)
        order = parties.parties(self.chain, case.order_id, block)
        if order is None or order.status != int(OrderStatus.RETURN_REQUESTED):
            status = OrderStatus(order.status).name.lower() if order else "unknown"
            raise ApiError(
                409,
                "not_disputable",
                f"order {case.order_id} is {status} at block {block}; a dispute opens on a requested return",
            )
        call = self.chain.escrow.functions.openDispute(case.order_id)
        try:
            call.call({"from": actor}, block_identifier=block)
        except Exception as exc:  # a revert: not the merchant's side, or the order moved
            raise ApiError(409, "not_disputable", f"openDispute would revert: {exc}") from None
        tx = {
            "from": actor,
            "to": self.chain.escrow.address,
            "data": self.chain.escrow.encode_abi("openDispute", args=[case.order_id]),
            "value": "0x0",
            "chainId": self.chain.chain_id,
        }
        dispute = {"preparedAt": time.time(), "preparedBlock": block, "by": actor, "transaction": tx}
        case = self.store.update(case.id, actor, "escalated", {"transaction": tx}, status=ESCALATED, dispute=dispute)
        return self._touch(case), tx

    def close(self, case: Case, actor: str, outcome: str) -> Case:
        _open(case)
        if not outcome.strip() or len(outcome) > 200:
            raise ApiError(400, "invalid_outcome", "say how the case ended, in 1 to 200 characters")
        return self._touch(
            self.store.update(
                case.id, actor, "closed", {"outcome": outcome}, status=CLOSED, closed_at=time.time(), outcome=outcome
            )
        )

    def _touch(self, case: Case) -> Case:
        self.purge()
        return case

    # ------------------------------------------------------------------ the chain's answer

    def record_disputes(self, cases: list[Case]) -> list[Case]:
        """`cases`, each with its order's dispute recorded if the index shows one (opened by this desk's
        escalation or by the buyer): the OrderDisputed log's block, transaction and deadline, and the
        policy's arbiterTimeout at that block."""
        return [self._record_dispute(case) for case in cases]

    def _record_dispute(self, case: Case) -> Case:
        if case.status == CLOSED or case.order_id is None or (case.dispute and "block" in case.dispute):
            return case
        order_id = case.order_id
        with self.index.read() as r:
            events = [e for e in r.escrow_events_of_order(order_id) if e["name"] == "OrderDisputed"]
        if not events:
            return case
        event = events[-1]
        block = int(event["block"])
        order = parties.parties(self.chain, order_id, block)
        assert order is not None  # the index saw its log at this block
        policy = Policy.decode(
            self.chain.policies.functions.policy(order.market, order.policy_version).call(block_identifier=block),
            self.chain.policies.abi,
        )
        dispute = {
            **(case.dispute or {}),
            "block": block,
            "txHash": event["tx_hash"],
            "by": event["args"]["by"],
            "decideBy": int(event["args"]["decideBy"]),
            "arbiterTimeout": int(policy.arbiter_timeout),
        }
        return self.store.update(case.id, SYSTEM, "dispute_opened_on_chain", dispute, status=ESCALATED, dispute=dispute)

    # ------------------------------------------------------------------ texts: erasure and retention

    def erase(self, buyer: str, proof: dict[str, Any]) -> dict[int, int]:
        """Deletes the buyer's texts at their signed request (`proof`: the session's signed message digest)."""
        return self.store.erase_texts(to_checksum_address(buyer), {"request": proof})

    def texts(self, case_id: int) -> list[dict[str, Any]]:
        """The case's texts still within the retention period: one that outlived it is not shown while it
        waits for the next purge (at start and on case writes)."""
        return self.store.texts(case_id, stored_from=time.time() - self.retention_seconds)

    def purge(self, now: float | None = None) -> int:
        """Deletes the texts past the retention period."""
        now = time.time() if now is None else now
        return self.store.purge_texts(now - self.retention_seconds, now)

    # ------------------------------------------------------------------ product safety

    def _notify_safety(self, case: Case) -> Notification | None:
        """The brand's product-safety contact hears of a safety case: codes, product and order, never the
        buyer's words or account (health data stays at the desk; the brand asks through the merchant)."""
        organization = case.brand_organization or case.organization
        subject = f"Product-safety concern: GTIN {case.gtin}, case {case.id}"
        body = (
            f"A buyer reported a possible safety problem with GTIN {case.gtin} serial {case.serial} "
            f"(order {case.order_id}, market {case.market}). Handoff: {', '.join(case.why)}. "
            f"Verified history: {case.history.get('url')}. "
            "Assess whether it is a risk to report (EU GPSR, Regulation (EU) 2023/988, Art. 9 and 20; US CPSA §15(b))."
        )
        notification = self.store.notify(case.id, organization, self.safety_contacts.get(organization), subject, body)
        self.deliver()
        return notification

    def deliver(self) -> int:
        """One delivery attempt for every pending notification; returns how many were sent."""
        sent = 0
        for n in self.store.notifications(status="pending"):
            try:
                self.sender.send(n)
            except Exception as exc:  # any sender failure: recorded, retried on the next round
                self.store.attempted(n.id, f"{type(exc).__name__}: {exc}"[:500])
            else:
                self.store.attempted(n.id, None)
                sent += 1
        return sent

    # ------------------------------------------------------------------ reading

    @staticmethod
    def sla(case: Case, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        return {"dueAt": case.due_at, "overdue": case.status != CLOSED and now > case.due_at}


def _open(case: Case) -> None:
    if case.status == CLOSED:
        raise ApiError(409, "case_closed", f"case {case.id} is closed")
