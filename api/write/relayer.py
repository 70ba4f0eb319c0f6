"""The relayer: turns accepted messages into transactions from the relayer's account.

Registry messages go out in acceptance order, consecutive ones of a kind in one call
(`record(batches)` or `commission(batches)`), so each signer's nonces stay in order; escrow
messages go one per transaction. The intake checked every message, so registry calls are sent
without a simulation; escrow calls, and any group whose transaction reverted, are simulated
first, and a message the chain refuses is failed with the contract's own error while the rest
go on. Each transaction is signed and stored in the outbox, and only then broadcast. After a
crash or an outage, stored transactions are re-broadcast byte for byte or settled from their
receipts before anything new is sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.types import TxParams

from returntrace import abi_words, eip712, logs

from ..chain.client import Chain
from ..chain.reader import ChainReader
from ..chain.revert import RevertDecoder, abi_type
from ..chain.worker import Worker
from ..store.outbox import Message, Outbox, SentTransaction
from . import refund_on_receipt
from .kinds import KINDS

log = logging.getLogger("returntrace.relayer")

GAS_HEADROOM = 1.25
RECEIPT_POLL = 0.01  # seconds between receipt reads: a 1,000-event batch mines in ~30 ms on anvil
# Registry calls are sent without a simulation, with a gas limit no valid batch exceeds (or the
# block's, if lower: see _relay): the intake checked every message, so a revert is rare and sends
# the group to one-by-one checks.
# (Measured: ~13k per event in sessions, ~23k per singly signed event, ~36k per new unit, plus
# a signer's first nonce write of ~22k.)
GAS_BASE = 60_000
GAS_PER_MESSAGE = 45_000
GAS_PER_ITEM = {k.name: k.gas_per_item for k in KINDS.values() if k.gas_per_item is not None}  # others: estimated
# Where each message kind goes: (contract attribute of Chain, function, takes a list of messages).
TARGETS = {
    **{k.name: (k.contract, k.call, k.batches) for k in KINDS.values()},
    # The gateway's own, unsigned messages: the function's arguments are the body's values.
    refund_on_receipt.KIND: ("escrow", "releaseRefundOnReceipt", False),
}
UNSIGNED_ARGS = {refund_on_receipt.KIND: ("orderId",)}
# Confirmed messages that may complete a refund on receipt's condition (the scan or the request).
FOLLOW_UP_KINDS = tuple(k.name for k in KINDS.values() if k.follows_up)


def _bytes(value: Any) -> Any:
    """JSON-stored message values back to what web3 encodes: 0x32-byte hex → bytes."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    if isinstance(value, dict):
        return {k: _bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bytes(v) for v in value]
    return value


def call_args(message: Message) -> tuple:
    body = _bytes(dict(message.body))
    signature = bytes.fromhex(body.pop("signature")[2:])
    return eip712.call_args(message.kind, body, signature)


class Relayer(Worker):
    name = "relayer"

    def __init__(
        self,
        *,
        chain: Chain,
        outbox: Outbox,
        private_key: str,
        batch_max_events: int,
        interval: float,
        pause_before_broadcast: float = 0.0,
        reader: ChainReader | None = None,
    ) -> None:
        super().__init__(interval)
        self.chain, self.outbox = chain, outbox
        self.reader = reader or ChainReader(chain)  # its policy cache spares reads per confirmation
        self.pause_before_broadcast = pause_before_broadcast
        self.account = Account.from_key(private_key)
        self.batch_max_events = batch_max_events
        # ReturnPolicies' errors too: the escrow's calls into it revert with them.
        self.decoder = RevertDecoder(
            [chain.registry.abi, chain.escrow.abi, chain.points.abi, chain.desk.abi, chain.policies.abi]
        )
        self._abi: dict[str, tuple[ChecksumAddress, bytes, list[str]]] = {}
        for kind, (contract_name, fn_name, _) in TARGETS.items():
            contract = getattr(chain, contract_name)
            if contract is None:  # no ReissueDesk in the manifest: its messages cannot be accepted
                continue
            fn = next(f for f in contract.abi if f.get("type") == "function" and f["name"] == fn_name)
            self._abi[kind] = (
                contract.address,
                function_abi_to_4byte_selector(fn),
                [abi_type(i) for i in fn["inputs"]],
            )
        self._nonce: int | None = None
        self._gas_limit = 0  # the latest block's, read at the start of each round
        # Messages whose transaction reverted: they are simulated (and the bad ones failed) next time.
        self._suspects: set[str] = set()
        # The transaction broadcast last and not yet settled, with its messages: the next one is
        # built, signed, stored and broadcast while it is mined (a pipeline of two).
        self._in_flight: list[tuple[str, list[Message]]] = []

    def _round(self) -> bool:
        return bool(self.run_once())

    def _reset(self) -> None:
        self._nonce = None
        self._in_flight.clear()  # still stored as sent: the next round settles them from the outbox

    # ------------------------------------------------------------------ one round

    def run_once(self) -> int:
        """Settles stored transactions, then relays one round of pending messages; with none
        pending, settles the transaction still in flight. Returns how many messages reached a
        final state or were submitted."""
        settled = self._settle_unfinished()
        pending = self.outbox.pending(self.batch_max_events)
        if not pending:
            return settled + self._drain()
        now, self._gas_limit = self._latest()
        live = []
        for m in pending:
            if m.deadline < now:
                self.outbox.fail([m.id], f"deadline {m.deadline} passed before the message could be relayed")
            else:
                live.append(m)
        done = len(pending) - len(live)
        for group in self._groups(live):
            done += self._relay(group)
        return settled + done

    @staticmethod
    def _groups(messages: list[Message]) -> list[list[Message]]:
        """Consecutive registry messages of one kind share a call; escrow messages go alone."""
        groups: list[list[Message]] = []
        for m in messages:
            batchable = TARGETS[m.kind][2]
            if batchable and groups and groups[-1][0].kind == m.kind:
                groups[-1].append(m)
            else:
                groups.append([m])
        return groups

    def _latest(self) -> tuple[int, int]:
        """(timestamp, gas limit) of the latest block: one raw read per round."""
        block = logs.rpc(self.chain.w3, "eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16), int(block["gasLimit"], 16)

    def _call(self, group: list[Message]) -> TxParams:
        """The transaction fields that carry a group, encoded in words (returntrace.abi_words: web3's
        contract encoder costs ~50x more on 1,000-event batches, eth_abi's ~5x)."""
        kind = group[0].kind
        to, selector, types = self._abi[kind]
        if TARGETS[kind][2]:
            args: tuple = ([call_args(m) for m in group],)
        elif kind in UNSIGNED_ARGS:
            args = tuple(group[0].body[name] for name in UNSIGNED_ARGS[kind])
        else:
            fields = call_args(group[0])
            args = (fields[:-1], fields[-1])
        data = HexStr("0x" + (selector + abi_words.encode(types, args)).hex())
        return {"from": self.account.address, "to": to, "data": data}

    def _estimate(self, group: list[Message]) -> int:
        return self.chain.w3.eth.estimate_gas(self._call(group))

    def _gas_bound(self, group: list[Message]) -> int | None:
        per_item = GAS_PER_ITEM.get(group[0].kind)
        if per_item is None:
            return None
        return GAS_BASE + sum(GAS_PER_MESSAGE + per_item * m.item_count for m in group)

    def _relay(self, group: list[Message]) -> int:
        """Sends a group in one transaction. A registry group goes unsimulated with its gas bound,
        capped at the block's gas limit: a bound above it (~1,000 events) is a worst case that
        sessions use half of, and simulating each such batch cost the node about fifteen executions
        of it (eth_estimateGas searches), ten times the transaction itself. One that does not fit
        reverts and comes back simulated, as after any revert. Escrow messages and the messages of
        a reverted transaction are simulated (and split, or failed with the chain's reason) first."""
        limit = self._gas_limit
        failed = 0
        suspect = any(m.id in self._suspects for m in group)
        self._suspects.difference_update(m.id for m in group)
        gas = None if suspect else self._gas_bound(group)
        if gas is None:
            self._drain()  # a simulation must see every transaction sent before it mined
            try:
                gas = int(self._estimate(group) * GAS_HEADROOM)
            except (ContractCustomError, ContractLogicError):
                group, failed = self._isolate(group)
                if not group:
                    return failed
                gas = int(self._estimate(group) * GAS_HEADROOM)
            if gas > limit and len(group) > 1:
                half = len(group) // 2
                return failed + self._relay(group[:half]) + self._relay(group[half:])
        self._send(group, min(gas, limit))
        return failed + len(group)

    def _isolate(self, group: list[Message]) -> tuple[list[Message], int]:
        """Keeps the longest run of messages the chain accepts together; fails the others with
        the contract's revert reason."""
        good: list[Message] = []
        failed = 0
        for m in group:
            try:
                self._estimate(good + [m])
                good.append(m)
            except (ContractCustomError, ContractLogicError) as exc:
                reason = self.decoder.describe(exc)
                log.info("message %s refused by the chain: %s", m.id, reason)
                self.outbox.fail([m.id], reason)
                failed += 1
        return good, failed

    # ------------------------------------------------------------------ transactions

    def _next_nonce(self) -> int:
        if self._nonce is None:
            onchain = self.chain.w3.eth.get_transaction_count(self.account.address, "pending")
            stored = self.outbox.max_relayer_nonce()
            self._nonce = max(onchain, -1 if stored is None else stored + 1)
        return self._nonce

    def _send(self, group: list[Message], gas: int) -> None:
        w3 = self.chain.w3
        nonce = self._next_nonce()
        tx = {
            **self._call(group),
            "nonce": nonce,
            "gas": gas,
            "gasPrice": w3.eth.gas_price,
            "chainId": self.chain.chain_id,
        }
        del tx["from"]
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        raw = "0x" + bytes(signed.raw_transaction).hex()
        # Stored before broadcast: after a crash the relayer re-sends these bytes, never new ones.
        self.outbox.record_transaction(SentTransaction(tx_hash, nonce, raw, [m.id for m in group]))
        self._nonce = nonce + 1
        if self.pause_before_broadcast:
            log.info("stored transaction %s (nonce %d), pausing before broadcast", tx_hash, nonce)
            time.sleep(self.pause_before_broadcast)
        self._broadcast(raw)
        self._in_flight.append((tx_hash, group))
        while len(self._in_flight) > 1:  # the one before settles while this one is mined
            self._settle_oldest()

    def _settle_oldest(self) -> int:
        """Awaits the oldest transaction in flight; one not mined in time stays stored as sent, and
        a later round settles it from the outbox. How many messages it settled."""
        tx_hash, group = self._in_flight.pop(0)
        return len(group) if self._await(tx_hash, [m.id for m in group], {m.id: m for m in group}) else 0

    def _drain(self) -> int:
        """Settles the transactions in flight; how many messages they carried."""
        settled = 0
        while self._in_flight:
            settled += self._settle_oldest()
        return settled

    def _broadcast(self, raw: str) -> None:
        try:
            self.chain.w3.eth.send_raw_transaction(HexStr(raw))
        except Web3RPCError as exc:
            text = str(exc).lower()
            # Already in the pool or mined: the receipt decides.
            if "already known" in text or "nonce too low" in text or "already imported" in text:
                return
            raise

    def _receipt(self, tx_hash: str) -> tuple[int, int] | None:
        """(status, block) of a mined transaction, else None. Read raw: web3's receipt formats every
        log, ~150 ms of CPU for a 1,000-event batch, and the relayer needs two numbers of it."""
        receipt = logs.rpc(self.chain.w3, "eth_getTransactionReceipt", [tx_hash])
        if not receipt or receipt.get("blockNumber") is None:
            return None
        return int(receipt["status"], 16), int(receipt["blockNumber"], 16)

    def _await(
        self, tx_hash: str, message_ids: list[str], known: dict[str, Message] | None = None, timeout: float = 60.0
    ) -> bool:
        """Waits for the receipt and settles the transaction. False if none came in time.
        `known`: the messages it carries, if the caller holds them (no second read of the outbox)."""
        deadline = time.monotonic() + timeout
        while (mined := self._receipt(tx_hash)) is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(RECEIPT_POLL)
        status, block = mined
        if status == 1:
            self._confirm(tx_hash, block, message_ids, known)
        else:
            # Reverted (unsimulated, or the state moved): requeue, and check each before resending.
            log.warning("transaction %s reverted; its messages go back to the queue", tx_hash)
            self._suspects.update(message_ids)
            self.outbox.drop_transaction(tx_hash, requeue=True)
        return True

    def _settle_unfinished(self) -> int:
        """Stored transactions not settled yet (after a crash, an outage, a timeout), but the one in
        flight: rebroadcast byte for byte and awaited, or settled from their receipts."""
        settled = 0
        in_flight = {tx_hash for tx_hash, _ in self._in_flight}
        for tx in self.outbox.unfinished_transactions():
            if tx.tx_hash in in_flight:
                continue
            mined = self._receipt(tx.tx_hash)
            if mined is None:
                onchain = self.chain.w3.eth.get_transaction_count(self.account.address, "latest")
                if onchain > tx.relayer_nonce:
                    # Its nonce went to another transaction: it can never be mined.
                    self.outbox.drop_transaction(tx.tx_hash, requeue=True)
                    self._nonce = None
                    continue
                self._broadcast(tx.raw)
                if not self._await(tx.tx_hash, tx.message_ids):
                    raise TimeoutError(f"transaction {tx.tx_hash} not mined yet")
            elif mined[0] == 1:
                self._confirm(tx.tx_hash, mined[1], tx.message_ids)
            else:
                self._suspects.update(tx.message_ids)
                self.outbox.drop_transaction(tx.tx_hash, requeue=True)
            settled += len(tx.message_ids)
        return settled

    def _confirm(
        self, tx_hash: str, block: int, message_ids: list[str], known: dict[str, Message] | None = None
    ) -> None:
        """Confirms a mined transaction, storing in the same database transaction the refund
        releases its receiving scans or return requests call for. Those are read at the latest
        block, and any failure to read them confirms the transaction without follow-ups: a
        confirmation is never held back by them (the manual endpoint can still release)."""
        messages = ((known or {}).get(mid) or self.outbox.get(mid) for mid in message_ids)
        confirmed = [m for m in messages if m is not None and m.kind in FOLLOW_UP_KINDS]
        follow_ups: list[Message] = []
        if confirmed:
            try:
                follow_ups = refund_on_receipt.candidates(self.reader, confirmed)
            except Exception:  # noqa: BLE001 — a node error, a pruned state, a bug: log it, confirm anyway
                log.exception(
                    "transaction %s: refund-on-receipt follow-ups not checked; confirming without them", tx_hash
                )
        for m in follow_ups:
            log.info(
                "return received at an accredited return center: releasing order %s's refund (message %s)",
                m.body["orderId"],
                m.id,
            )
        self.outbox.confirm_transaction(tx_hash, block, follow_ups)

    @property
    def address(self) -> ChecksumAddress:
        return to_checksum_address(self.account.address)
