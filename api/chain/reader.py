"""The reads the write side makes of the chain at the latest block (LATEST): roles, units, parcels,
orders, policies, nonces and signatures. Each cached read follows its purpose's policy
(api/chain/cache.py): facts that cannot change again are Permanent, latest-block facts that may
change are Expiring, and what decides a message's fate now is read every time."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from requests.exceptions import RequestException
from web3.exceptions import ContractCustomError, ContractLogicError

from returntrace import hashchain, history
from returntrace.escrow import Order, Policy

from . import blocks, parties
from .blocks import LATEST, BlockRef
from .cache import MISSING, Expiring, Permanent
from .client import Chain

LAST_ORDER_OF_SELECTOR = keccak(text="lastOrderOf(bytes32)")[:4]
IS_PARCEL_SELECTOR = keccak(text="isParcel(bytes32)")[:4]
GET_NONCE_SELECTOR = keccak(text="getNonce(address)")[:4]
ACCREDITOR_ROLE = keccak(text="ACCREDITOR_ROLE")


class ChainReader:
    """What the intake checks and the relayer's follow-ups read of one deployment, at the latest block."""

    ERC1271_MAGIC = bytes.fromhex("1626ba7e")

    def __init__(self, chain: Chain, policies: Permanent | None = None, ttl: float = 2.0) -> None:
        self.chain = chain
        # Policy versions never change (setPolicy adds one): one cache the gateway's readers share.
        self.policies = policies if policies is not None else Permanent()
        self.now = Expiring(1.0)  # the latest block's time
        self.roles = Expiring(ttl)  # account -> (role bits, organisation GLN)
        self.open_units = Expiring(ttl)  # unit -> record while open: a closing made elsewhere shows after the TTL
        self.closed_units = Permanent()  # a closed unit never reopens
        self.known_units = Permanent()  # a unit or parcel once created stays
        self.products = Permanent()  # GTIN -> (brand, class flags, markets) once registered
        self.contracts = Permanent()  # accounts with code: a wallet stays deployed
        self.eoas = Expiring(60.0)  # accounts without code: a wallet may be deployed at a counterfactual address later

    def block_time(self) -> int:
        return self.now.get("latest", lambda: int(self.chain.w3.eth.get_block(LATEST.identifier)["timestamp"]))

    def actor(self, account: str) -> tuple[int, int]:
        """(role bits, organisation GLN) of an account, cached for the reader's TTL."""
        return self.roles.get(
            account, lambda: tuple(int(v) for v in self.chain.registry.functions.actor(account).call())
        )

    def actor_roles(self, account: str) -> int:
        return self.actor(account)[0]

    def head(self) -> BlockRef:
        """The latest block, by number and hash: where a check that a proof must name is made."""
        return blocks.head(self.chain.w3)

    def actor_at(self, account: str, block: BlockRef) -> tuple[int, int]:
        """(role bits, organisation GLN) of an account at `block`, uncached: a proof's read."""
        return parties.actor(self.chain, account, block.number if block.number is not None else self.head().number or 0)

    def product_at(self, gtin: int, block: BlockRef) -> tuple[str, int, int] | None:
        """(brand, class flags, markets) of a GTIN at `block`, uncached (a proof's read); None if unregistered."""
        brand, flags, markets = self.chain.registry.functions.product(gtin).call(block_identifier=block.identifier)
        return None if int(brand, 16) == 0 else (brand, int(flags), int(markets))

    def is_accreditor_at(self, account: str, block: BlockRef) -> bool:
        """Whether `account` holds the registry's ACCREDITOR_ROLE at `block`."""
        return bool(
            self.chain.registry.functions.hasRole(ACCREDITOR_ROLE, account).call(block_identifier=block.identifier)
        )

    def unit_states(self, unit_ids: list[bytes]) -> dict[bytes, int]:
        """`unitRecord` of units or parcels at the latest block, in one batched read. A closed
        unit never reopens, so it is remembered and not read again (its value here is then only
        the closed flag); an open one is read again after the reader's TTL, like roles: closings
        queued here are seen at once through the outbox, and one made elsewhere within the TTL is
        refused by the chain, whose error the message then carries. Existence is remembered for
        existing_units."""
        ids = list(dict.fromkeys(unit_ids))
        fresh = {u: record for u in ids if (record := self.open_units.fresh(u)) is not MISSING}
        unknown = [u for u in ids if u not in self.closed_units and u not in fresh]
        out = history.read_records(self.chain.registry, unknown, LATEST.identifier) if unknown else {}
        for u, record in out.items():
            if record:
                self.known_units.put(u, True)
            if hashchain.is_closed(record):
                self.closed_units.put(u, True)
                self.open_units.forget(u)
            elif record:
                self.open_units.put(u, record)
        out.update(fresh)
        out.update({u: hashchain.CLOSED for u in ids if u in self.closed_units and u not in out})
        return out

    def existing_units(self, unit_ids: list[bytes]) -> set[bytes]:
        """Which of these units exist on-chain: one batched read for all those not known yet."""
        unknown = [u for u in unit_ids if u not in self.known_units]
        if unknown:
            self.unit_states(unknown)
        return {u for u in unit_ids if u in self.known_units}

    def parents(self, unit_ids: list[bytes]) -> dict[bytes, bytes]:
        """`parentOf` of units at the latest block: the parcel each is packed in (zero bytes: none)."""
        return history.read_parents(self.chain.registry, list(dict.fromkeys(unit_ids)), LATEST.identifier)

    def parcel_sizes(self, parcel_ids: list[bytes]) -> dict[bytes, int]:
        """`parcelSize` of parcels at the latest block (a unit's id answers 0)."""
        return history.read_parcel_sizes(self.chain.registry, list(dict.fromkeys(parcel_ids)), LATEST.identifier)

    def parcels_among(self, ids: list[bytes]) -> set[bytes]:
        """Which of these ids are parcels (`isParcel`, at the latest block): one batched read."""
        return {
            i
            for i, v in history.read_words(
                self.chain.registry, IS_PARCEL_SELECTOR, list(dict.fromkeys(ids)), LATEST.identifier
            ).items()
            if v
        }

    def last_orders(self, unit_ids: list[bytes]) -> dict[bytes, int]:
        """`ReturnEscrow.lastOrderOf` of many units at the latest block, in one batched read."""
        return history.read_words(
            self.chain.escrow, LAST_ORDER_OF_SELECTOR, list(dict.fromkeys(unit_ids)), LATEST.identifier
        )

    def product(self, gtin: int) -> tuple[str, int, int] | None:
        """(brand, class flags, markets) of a registered GTIN, else None."""

        def read() -> tuple[str, int, int] | None:
            brand, flags, markets = self.chain.registry.functions.product(gtin).call()
            return None if int(brand, 16) == 0 else (brand, flags, markets)

        return self.products.get(gtin, read, keep=lambda found: found is not None)

    def nonce(self, contract: str, signer: str) -> int:
        """`getNonce(signer)` at the latest block, as one raw eth_call: every accepted message reads
        it, and web3's contract call costs ~1 ms of CPU more (ABI lookup, validation, formatting)."""
        c = {"registry": self.chain.registry, "escrow": self.chain.escrow, "desk": self.chain.desk}[contract]
        word = bytes(12) + bytes.fromhex(signer[2:])  # the address argument's ABI word
        return history.read_words(c, GET_NONCE_SELECTOR, [word], LATEST.identifier)[word]

    def is_contract(self, account: str) -> bool:
        """Contract wallets are remembered; an account without code is re-checked after the TTL
        (a wallet may be deployed at a counterfactual address later)."""
        if account in self.contracts:
            return True
        if self.eoas.fresh(account) is not MISSING:
            return False
        if len(self.chain.w3.eth.get_code(to_checksum_address(account))) > 0:
            self.contracts.put(account, True)
            return True
        self.eoas.put(account, True)
        return False

    def erc1271_accepts(self, wallet: str, digest: bytes, signature: bytes) -> bool:
        data = bytes.fromhex("1626ba7e") + encode(["bytes32", "bytes"], [digest, signature])
        try:
            out = self.chain.w3.eth.call({"to": wallet, "data": data})
        except RequestException:  # the node did not answer: a 503, not "the wallet refuses"
            raise
        except Exception:  # a reverting or absent wallet does not accept
            return False
        return len(out) >= 32 and bytes(out[:4]) == self.ERC1271_MAGIC

    def order(self, order_id: int) -> Order | None:
        """The order at the latest block; None for one that does not exist (the escrow reverts with
        ReturnEscrowUnknownOrder)."""
        try:
            values = self.chain.escrow.functions.order(order_id).call()
        except (ContractCustomError, ContractLogicError):
            return None
        return Order.decode(values, self.chain.escrow.abi)

    def policy(self, market: int, version: int) -> Policy:
        """A market's policy version. Cached for good: a version never changes once set (setPolicy adds one)."""
        key = (int(market), int(version))
        return self.policies.get(
            key, lambda: Policy.decode(self.chain.policies.functions.policy(*key).call(), self.chain.policies.abi)
        )

    def delivered_at(self, order_id: int) -> int:
        return int(self.chain.escrow.functions.deliveredAt(order_id).call())

    def first_inspection_organization(self, order_id: int) -> int | None:
        """The organisation of a high-value return's first inspector (None: none yet), as the escrow
        checks it. Not cached: after a dispute that lapses with nothing attested the return is
        inspected afresh, and a new first house replaces the old."""
        organization = int(self.chain.escrow.functions.firstInspectorOrganization(order_id).call())
        return organization or None

    def return_received_at(self, order_id: int) -> int:
        """When the warehouse's receiving scan under the order's RMA counts (0: not yet, or recorded before the
        request)."""
        return int(self.chain.escrow.functions.returnReceivedAt(order_id).call())

    def return_window_closes(self, order_id: int) -> int:
        """The escrow's end of the order's return period: the law's (whole days, calendar) or the policy's,
        whichever is later, plus the time rejected defect claims held it (0: not delivered)."""
        return int(self.chain.escrow.functions.returnWindowCloses(order_id).call())

    def derive_grade(self, market: int, version: int, facts: int) -> int:
        """The grade ReturnPolicies derives from an inspection's facts under a policy version."""
        return int(self.chain.policies.functions.deriveGrade(int(market), int(version), int(facts)).call())

    def may_close(self, unit_id: bytes, signer: str, roles: int, step: int, disposition: int) -> bool:
        """The escrow's close guard (ICloseGuard): may `signer` record a closing event of `step` and
        `disposition` for the unit now. Not cached: a settlement or a sale changes the answer."""
        return bool(self.chain.escrow.functions.mayClose(unit_id, signer, roles, step, disposition).call())
