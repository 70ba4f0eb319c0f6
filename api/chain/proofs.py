"""A deployment's state at a pinned block, for the read side's proofs: what the pages, the resolver's
JSON and the integrity report check the index against.

    reads = BlockReads.of(chain, guard, cache, policies)    # the current deployment: registry, escrow, desk
    reads = BlockReads(registry, guard, cache)              # a previous deployment's registry only
    reads.record(unit_id, at(block, block_hash))

Every read is made at the BlockRef it is given (the indexed block), on the request path's client,
cached per block (PerBlock: a block's state never changes; the hash keeps a reorganised block
apart), and behind the node's fast-fail guard: any failure is ChainUnavailable, never a 500.
Policy versions share the gateway's one Permanent policy cache.
"""

from __future__ import annotations

import logging
from typing import Any

from eth_utils import keccak
from web3.contract import Contract

from returntrace import history, logs
from returntrace.escrow import Facts, Grade, Law, Order, Policy, Reissue, Settlement

from . import blocks
from .blocks import LATEST, BlockRef
from .cache import PerBlock, Permanent
from .guard import ChainUnavailable, NodeGuard

log = logging.getLogger("returntrace.proofs")
RETURN_CENTER_SET_TOPIC = "0x" + keccak(text="ReturnCenterSet(uint64,uint64,uint64)").hex()
REORG_DEPTH = 64  # blocks after which a log is taken as final (the return centers' kept fold)


def _required(contract: Contract | None, name: str) -> Contract:
    """A contract only the current deployment's reads have (BlockReads.of): asked of a previous
    deployment's registry-only reads, a bug, answered like any failed read (behind the guard)."""
    if contract is None:
        raise LookupError(f"these reads have no {name} (a previous deployment's registry only)")
    return contract


def _decoded(
    contract: Contract | None, name: str, struct: Any, function: str, *args: Any, at: BlockRef | None = None
) -> Any:
    """`function(*args)` of `contract` (at `at`, or the latest block) decoded by name into `struct`
    (a returntrace.escrow struct) with the contract's own ABI."""
    c = _required(contract, name)
    call = c.functions[function](*args)
    return struct.decode(call.call(block_identifier=at.identifier) if at else call.call(), c.abi)


class BlockReads:
    def __init__(
        self,
        registry: Contract,
        guard: NodeGuard,
        cache: PerBlock,
        escrow: Contract | None = None,
        desk: Contract | None = None,
        policy_book: Contract | None = None,
        policies: Permanent | None = None,
        first_block: int = 0,
    ) -> None:
        self.registry, self.escrow, self.desk, self.policy_book = registry, escrow, desk, policy_book
        self.first_block = first_block  # the deployment's block: where its logs start
        self._centers: tuple[int, dict[int, tuple[int, int]]] = (first_block - 1, {})  # return centers folded
        # Shared with the reads of other deployments on the same node: one guard for the node, keys that name the
        # contract.
        self.guard, self.cache = guard, cache
        self.policies = policies if policies is not None else Permanent()
        # Logs REORG_DEPTH blocks deep: read once, not again at each indexed block (a settled order's proof).
        self.final_logs = Permanent()

    @classmethod
    def of(cls, chain: Any, guard: NodeGuard, cache: PerBlock, policies: Permanent | None = None) -> BlockReads:
        """The current deployment's registry, escrow, reissue desk and policies."""
        return cls(
            chain.registry, guard, cache, chain.escrow, chain.desk, chain.policies, policies, chain.deployment_block
        )

    @property
    def proves_orders(self) -> bool:
        """Whether the deployment's escrow is read (a previous deployment's is not)."""
        return self.escrow is not None

    @property
    def w3(self) -> Any:
        return self.registry.w3

    def _cached(self, key: tuple, read: Any) -> Any:
        return self.cache.get(key, lambda: self.guard.guarded(read))

    # ------------------------------------------------------------------ the registry

    def record(self, unit_id: bytes, at: BlockRef) -> int:
        unit_id = bytes(unit_id)
        return self._cached(
            ("record", self.registry.address, unit_id, at),
            lambda: int(self.registry.functions.unitRecord(unit_id).call(block_identifier=at.identifier)),
        )

    def parcel_content(self, parcel_id: bytes, members: list[bytes], at: BlockRef) -> tuple[dict[bytes, bytes], int]:
        """(parentOf of each member, parcelSize of the parcel) at `at`: two batched reads, cached."""

        def read() -> tuple[dict[bytes, bytes], int]:
            parents = history.read_parents(self.registry, members, at.identifier) if members else {}
            return parents, history.read_parcel_sizes(self.registry, [parcel_id], at.identifier)[parcel_id]

        return self._cached(("parcel", self.registry.address, bytes(parcel_id), tuple(members), at), read)

    def product(self, gtin: int, at: BlockRef) -> tuple[str, int]:
        """(brand, class flags) the registry holds for `gtin` at `at` (the zero address: no such product)."""
        return self._cached(
            ("product", self.registry.address, int(gtin), at),
            lambda: tuple(self.registry.functions.product(int(gtin)).call(block_identifier=at.identifier))[:2],
        )

    def records(self, unit_ids: list[bytes], at: BlockRef) -> dict[bytes, int]:
        """Many units at one block (JSON-RPC batches), for the integrity report; not cached."""
        return self.guard.guarded(lambda: history.read_records(self.registry, unit_ids, at.identifier))

    def exists(self, unit_id: bytes, at: BlockRef = LATEST) -> bool:
        """Whether the registry has the unit (not cached: a unit the index lacks is asked about at the latest block)."""
        return self.guard.guarded(
            lambda: int(self.registry.functions.eventCount(bytes(unit_id)).call(block_identifier=at.identifier)) > 0
        )

    def actor(self, account: str, at: BlockRef) -> tuple[int, int]:
        """(role bits, organisation GLN) the accreditor had recorded for `account` at `at`."""
        return self._cached(
            ("actor", self.registry.address, account, at),
            lambda: tuple(int(v) for v in self.registry.functions.actor(account).call(block_identifier=at.identifier)),
        )

    def accredited_centers(self, at: BlockRef) -> dict[int, tuple[int, int]]:
        """{location GLN: (organisation GLN, market bits)} of the return centers accredited at `at`:
        the last ReturnCenterSet of each location up to that block (setReturnCenter is the only
        writer; markets 0 withdraws the accreditation). The logs older than REORG_DEPTH blocks are
        folded once and kept; each block reads only the newer ones."""

        def read() -> dict[int, tuple[int, int]]:
            number = int(at.number if at.number is not None else self.w3.eth.block_number)
            folded_to, folded = self._centers
            if number < folded_to:  # a block before the kept fold: read its history whole
                folded_to, folded = self.first_block - 1, {}
            settled = max(folded_to, number - REORG_DEPTH)
            if settled > folded_to:
                folded = self._fold_centers(dict(folded), folded_to + 1, settled)
                self._centers = (settled, folded)
            centers = self._fold_centers(dict(folded), settled + 1, number)
            return {gln: center for gln, center in centers.items() if center[0] and center[1]}

        return self._cached(("accreditedCenters", self.registry.address, at), read)

    def _fold_centers(self, centers: dict[int, tuple[int, int]], first: int, last: int) -> dict[int, tuple[int, int]]:
        topics = [RETURN_CENTER_SET_TOPIC]
        for _, _, entries in logs.iter_ranges(self.w3, [self.registry.address], first, last, topics=topics):
            for e in entries:  # location and organisation are indexed; the markets are the data word
                centers[int(e["topics"][1], 16)] = (int(e["topics"][2], 16), int(e["data"], 16))
        return centers

    def milestone(self, unit_id: bytes, reference: bytes, kind: int, at: BlockRef) -> dict[str, int]:
        """The registry's milestone record {at, location, organization, recordedAt} (all 0: none yet)."""

        def read() -> dict[str, int]:
            at_, location, organization, recorded_at = self.registry.functions.milestone(
                bytes(unit_id), bytes(reference), int(kind)
            ).call(block_identifier=at.identifier)
            return {"at": at_, "location": location, "organization": organization, "recordedAt": recorded_at}

        return self._cached(("milestone", self.registry.address, bytes(unit_id), bytes(reference), kind, at), read)

    # ------------------------------------------------------------------ the escrow and the reissue desk

    def replacement_of(self, order_id: int, at: BlockRef) -> bytes | None:
        reissue: Reissue = self._cached(
            ("reissue", order_id, at), lambda: _decoded(self.desk, "ReissueDesk", Reissue, "reissue", order_id, at=at)
        )
        return reissue.replacement if int.from_bytes(reissue.replacement, "big") else None

    def last_order_of(self, unit_id: bytes, at: BlockRef) -> int:
        return self._cached(
            ("lastOrderOf", bytes(unit_id), at),
            lambda: int(
                _required(self.escrow, "ReturnEscrow")
                .functions.lastOrderOf(unit_id)
                .call(block_identifier=at.identifier)
            ),
        )

    def order_state(self, order_id: int, at: BlockRef) -> tuple[str, int, int]:
        """(status name, facts, grade) of the order on-chain at `at`."""
        o = self.order(order_id, at)
        return o.status.key, o.facts, int(o.grade)

    def order(self, order_id: int, at: BlockRef) -> Order:
        """`ReturnEscrow.order` at `at` (the order must exist: the escrow reverts for an unknown one)."""
        return self._cached(
            ("order", order_id, at), lambda: _decoded(self.escrow, "ReturnEscrow", Order, "order", order_id, at=at)
        )

    def escrow_log(self, block: int, log_index: int, at: BlockRef) -> logs.DecodedLog | None:
        """The escrow's log at (`block`, `log_index`) as the node has it, read at or before `at` (None:
        no such escrow log there): what an index row's copy of a log is checked against."""
        escrow = _required(self.escrow, "ReturnEscrow")

        def read() -> logs.DecodedLog | None:
            if at.number is not None and block > at.number:
                return None  # a log after the indexed block is none of the index's
            decoder = logs.LogDecoder({escrow.address: escrow.abi})
            found = logs.decoded(decoder, logs.raw_logs(self.w3, [escrow.address], block, block))
            return next((d for d in found if d.log_index == log_index), None)

        if at.number is not None and block <= at.number - REORG_DEPTH:  # final: the same at every later block
            key = ("escrowLog", escrow.address, block, log_index)
            return self.final_logs.get(key, lambda: self.guard.guarded(read))
        return self._cached(("escrowLog", escrow.address, block, log_index, at), read)

    def order_count(self, at: BlockRef) -> int:
        """How many orders the escrow has at `at` (ids run from 1): an id above it is no order."""
        escrow = _required(self.escrow, "ReturnEscrow")
        return self._cached(
            ("orderCount", at), lambda: int(escrow.functions.orderCount().call(block_identifier=at.identifier))
        )

    def dispatched_at(self, order_id: int, at: BlockRef) -> int:
        """The escrow's time of the carrier's scan proving the return was sent back (0: none)."""
        return self._cached(
            ("dispatchedAt", order_id, at),
            lambda: int(
                _required(self.escrow, "ReturnEscrow")
                .functions.dispatchedAt(order_id)
                .call(block_identifier=at.identifier)
            ),
        )

    def policy(self, market: int, version: int) -> Policy:
        """A market's policy version: read once (a version never changes), behind the guard."""
        key = (int(market), int(version))
        return self.policies.get(
            key,
            lambda: self.guard.guarded(lambda: _decoded(self.policy_book, "ReturnPolicies", Policy, "policy", *key)),
        )

    # ------------------------------------------------------------------ the return desk's reads (api/read/options.py)

    def latest(self) -> BlockRef:
        """The latest block, by number and hash: the block the desk states its options at."""
        return self.guard.guarded(lambda: blocks.head(self.w3))

    def block_time(self, at: BlockRef) -> int:
        return self._cached(("time", at), lambda: int(self.w3.eth.get_block(at.identifier)["timestamp"]))

    def _escrow_word(self, function: str, order_id: int, at: BlockRef) -> int:
        escrow = _required(self.escrow, "ReturnEscrow")
        return self._cached(
            (function, order_id, at),
            lambda: int(escrow.functions[function](order_id).call(block_identifier=at.identifier)),
        )

    def window_closes(self, order_id: int, at: BlockRef) -> int:
        """The escrow's last second of the order's return period (0: not delivered)."""
        return self._escrow_word("returnWindowCloses", order_id, at)

    def delivered_at(self, order_id: int, at: BlockRef) -> int:
        return self._escrow_word("deliveredAt", order_id, at)

    def quote(self, order_id: int, grade: Grade, facts: int, at: BlockRef, diminished: int = 0) -> Settlement:
        """The escrow's own settlement of the order at `grade` with `facts` and an attested `diminished` value."""
        return self._cached(
            ("quote", order_id, int(grade), facts, diminished, at),
            lambda: _decoded(
                self.escrow, "ReturnEscrow", Settlement, "quote", order_id, int(grade), facts, diminished, at=at
            ),
        )

    def derive_grade(self, market: int, version: int, facts: int, at: BlockRef) -> Grade:
        """The grade ReturnPolicies derives from an inspection's `facts` under a policy version."""
        book = _required(self.policy_book, "ReturnPolicies")
        return Grade(
            self._cached(
                ("deriveGrade", market, version, facts, at),
                lambda: int(book.functions.deriveGrade(market, version, facts).call(block_identifier=at.identifier)),
            )
        )

    def law(self, market: int, at: BlockRef) -> Law:
        return self._cached(
            ("law", market, at), lambda: _decoded(self.policy_book, "ReturnPolicies", Law, "law", market, at=at)
        )

    def period_end(self, market: int, start: int, days: int, at: BlockRef) -> int:
        """ReturnPolicies.periodEnd: the end of `days` whole days from `start` under the market's law."""
        book = _required(self.policy_book, "ReturnPolicies")
        return self._cached(
            ("periodEnd", market, start, days, at),
            lambda: int(book.functions.periodEnd(market, start, days).call(block_identifier=at.identifier)),
        )

    def currency_decimals(self, market: int, currency: str, at: BlockRef) -> int:
        book = _required(self.policy_book, "ReturnPolicies")
        return self._cached(
            ("decimals", market, currency, at),
            lambda: int(book.functions.currency(market, currency).call(block_identifier=at.identifier)[1]),
        )

    def return_centers(self, market: int, at: BlockRef) -> list[int]:
        """GLNs of the return centers accredited for `market` at `at` (what the registry's
        `returnCenterAccredited` answers for each: an organisation and the market's bit)."""
        return [gln for gln, (_, markets) in sorted(self.accredited_centers(at).items()) if markets >> market & 1]

    def return_options(self, order: dict[str, Any], at: BlockRef) -> dict[str, Any] | None:
        """While an Active order may still be returned: when the return period ends (the escrow's
        returnWindowCloses: the law's calendar or the policy's window), the cash a grade-A return
        brings (the escrow's quote, as the release on receipt pays it) and the voucher the policy
        offers instead."""
        order_id = order["order_id"]
        sealed = int(Facts.SEAL_INTACT | Facts.PACKAGING_INTACT)
        try:
            policy = self.policy(order["market"], order["policy_version"])
            closes_at, now, quote = self._cached(
                ("options", order_id, at),
                lambda: (
                    int(
                        _required(self.escrow, "ReturnEscrow")
                        .functions.returnWindowCloses(order_id)
                        .call(block_identifier=at.identifier)
                    ),
                    int(self.w3.eth.get_block(at.identifier)["timestamp"]),
                    _decoded(
                        self.escrow, "ReturnEscrow", Settlement, "quote", order_id, int(Grade.A), sealed, 0, at=at
                    ),
                ),
            )
        except ChainUnavailable as exc:  # the page shows no options rather than failing
            log.info("return options of order %s not read: %s", order_id, exc)
            return None
        if closes_at == 0 or now > closes_at:
            return None
        offered = policy.exchange_offered
        return {
            "closesAt": closes_at,
            "refund": str(quote.refund),
            "statutory": quote.statutory,
            "exchangeOffered": offered,
            "exchangeBonusBps": policy.exchange_bonus_bps if offered else 0,
            "voucher": str(policy.exchange_voucher(quote.refund)) if offered else None,
            "refundOnReturn": policy.refund_on_return,
            "freePickup": policy.free_pickup,
        }
