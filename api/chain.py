"""The chain as the gateway sees it: a web3 connection and the contracts named in the deployment manifest."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from requests.exceptions import RequestException
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from returntrace import eip712, hashchain, history
from returntrace.policies import Policy

LAST_ORDER_OF_SELECTOR = keccak(text="lastOrderOf(bytes32)")[:4]
IS_PARCEL_SELECTOR = keccak(text="isParcel(bytes32)")[:4]
GET_NONCE_SELECTOR = keccak(text="getNonce(address)")[:4]
SECOND_INSPECTION_TOPIC = "0x" + keccak(text="SecondInspectionRequired(uint256,uint64)").hex()


@dataclass(frozen=True)
class RpcProfile:
    """How long a web3 client waits for the chain node. `timeout` bounds the connection and each
    read of an answer (requests' timeout); web3's exception retries are off. A frozen node
    (connections accepted, nothing answered, as a stalled or overloaded node behaves) costs a call
    at most `timeout` seconds, where web3's defaults (a 10 s timeout and 5 attempts with back-off)
    cost ~52 s. Whoever wants another attempt makes it: the workers' rounds back off and retry,
    a client retries a 503."""

    timeout: float

    def web3(self, rpc_url: str) -> Web3:
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": self.timeout}, exception_retry_configuration=None))
        # web3's validation middleware asks the node for its chain id before every eth_call and gas
        # estimate, to check a `chainId` field the gateway never sets: a second round trip per read.
        w3.middleware_onion.remove("validation")
        return w3


# The timeout profiles, here only (README, Configuration). Request threads (intake checks, nonces,
# /readyz, pages, audit queries): a frozen node is a 503 (a page: "not verified") within ~2 s.
REQUEST_RPC = RpcProfile(timeout=2.0)  # RT_RPC_TIMEOUT
# The relayer and the indexer, on threads and clients of their own: 2,000-block eth_getLogs ranges
# and 1,000-event transactions may take longer than a request should wait.
WORKER_RPC = RpcProfile(timeout=10.0)  # RT_WORKER_RPC_TIMEOUT
# The auditor CLI: whole-history log ranges from a possibly remote node (scripts/audit.py --timeout).
AUDITOR_RPC = RpcProfile(timeout=30.0)


class ManifestError(RuntimeError):
    """The deployment manifest is missing, not of this version, or does not describe the contracts."""


MANIFEST_SCHEMA = 2  # scripts/deploy.py SCHEMA_VERSION: the contracts and meanings this gateway reads
SIGNING_CONTRACTS = ("TraceRegistry", "ReturnEscrow", "StorePoints", "ReissueDesk")


def read_manifest(path: Path) -> tuple[dict[str, Any], Any]:
    """A deployment manifest and its schema (1: v1's scripts/deploy.py wrote no `schemaVersion`)."""
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read deployment manifest {path}: {exc}") from exc
    return manifest, manifest.get("schemaVersion", 1)


@dataclass
class Chain:
    w3: Web3
    chain_id: int
    deployment_block: int
    registry: Contract
    escrow: Contract
    points: Contract
    desk: Contract
    policies: Contract
    domains: dict[str, eip712.Domain]

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path, rpc: RpcProfile = REQUEST_RPC) -> "Chain":
        manifest, schema = read_manifest(manifest_path)
        if schema != MANIFEST_SCHEMA:
            raise ManifestError(
                f"{manifest_path} describes a deployment of schema {schema}; this gateway reads schema "
                f"{MANIFEST_SCHEMA} (docs/operations.md, Moving to a new deployment: drain the outbox, deploy, switch the manifest)"
            )
        w3 = rpc.web3(rpc_url)
        contracts: dict[str, Any] = {}
        domains: dict[str, eip712.Domain] = {}
        for name in (*SIGNING_CONTRACTS, "ReturnPolicies"):
            entry = manifest.get("contracts", {}).get(name)
            if not entry:
                raise ManifestError(f"{manifest_path} has no {name}")
            contracts[name] = w3.eth.contract(address=Web3.to_checksum_address(entry["address"]), abi=entry["abi"])
            if name in SIGNING_CONTRACTS:
                d = entry["eip712"]
                domains[name] = eip712.Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])
        return cls(
            w3=w3,
            chain_id=int(manifest["chainId"]),
            deployment_block=int(manifest["deploymentBlock"]),
            registry=contracts["TraceRegistry"],
            escrow=contracts["ReturnEscrow"],
            points=contracts["StorePoints"],
            desk=contracts["ReissueDesk"],
            policies=contracts["ReturnPolicies"],
            domains=domains,
        )

    @property
    def deployment(self) -> dict[str, Any]:
        """What identifies the deployment: the chain and every contract's address."""
        return {
            "chainId": self.chain_id, "TraceRegistry": self.registry.address, "ReturnEscrow": self.escrow.address,
            "StorePoints": self.points.address, "ReissueDesk": self.desk.address, "ReturnPolicies": self.policies.address,
        }

    def domain_for(self, primary: str) -> eip712.Domain:
        """The EIP-712 domain a message type is signed under."""
        if primary in ("EventBatch", "CommissionBatch", "AggregationBatch", "DecommissionBatch"):
            return self.domains["TraceRegistry"]
        if primary in ("Inspection", "ReturnRequest"):
            return self.domains["ReturnEscrow"]
        if primary == "DefectClaim":
            return self.domains["ReissueDesk"]
        return self.domains["StorePoints"]


# Manifests of earlier deployments the gateway still reads (RT_LEGACY_MANIFESTS): schema 1, written by
# the scripts/deploy.py of v1 without a `schemaVersion`. A v1 registry's hash chains (type hashes of
# Commission, LifecycleEvent and Aggregation, and the events that carry them) are v2's, so
# returntrace.history rebuilds them and its `unitRecord` proves them.
LEGACY_SCHEMAS = (1,)


@dataclass
class LegacyDeployment:
    """A previous deployment, read for its registry only: it accepts no messages here and its
    escrow's orders are not read (no escrow, no desk: the indexer folds no orders)."""

    w3: Web3
    chain_id: int
    deployment_block: int
    registry: Contract
    schema: int = 1
    escrow: None = None
    desk: None = None

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path, rpc: RpcProfile = REQUEST_RPC) -> "LegacyDeployment":
        manifest, schema = read_manifest(manifest_path)
        if schema == MANIFEST_SCHEMA:
            raise ManifestError(f"{manifest_path} describes a deployment of schema {schema}, the current one: it is RT_MANIFEST, not a legacy manifest")
        if schema not in LEGACY_SCHEMAS:
            raise ManifestError(f"{manifest_path} describes a deployment of schema {schema}; legacy manifests are of schema {', '.join(map(str, LEGACY_SCHEMAS))}")
        entry = manifest.get("contracts", {}).get("TraceRegistry") or {}
        if not entry.get("address") or not entry.get("abi"):
            raise ManifestError(f"{manifest_path} has no TraceRegistry (address and abi): a legacy deployment is read for its registry")
        try:
            w3 = rpc.web3(rpc_url)
            registry = w3.eth.contract(address=Web3.to_checksum_address(entry["address"]), abi=entry["abi"])
            return cls(w3=w3, chain_id=int(manifest["chainId"]), deployment_block=int(manifest["deploymentBlock"]), registry=registry, schema=schema)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{manifest_path} does not describe its registry's chain (chainId, deploymentBlock, address): {exc!r}") from exc

    @property
    def deployment(self) -> dict[str, Any]:
        """How its pages name it (UnitView.deployment)."""
        return {"schema": self.schema, "chainId": self.chain_id, "registry": self.registry.address, "readOnly": True}


class ChainReader:
    """Reads the intake checks need, with caches only where the chain cannot change the answer
    (a unit or product once created stays) or for a second (block time, actor roles)."""

    ERC1271_MAGIC = bytes.fromhex("1626ba7e")

    def __init__(self, chain: Chain, ttl: float = 2.0) -> None:
        self.chain = chain
        self._ttl = ttl
        self._units: set[bytes] = set()
        self._products: dict[int, tuple[str, int, int]] = {}
        self._roles: dict[str, tuple[float, tuple[int, int]]] = {}
        self._contracts: set[str] = set()
        self._eoas: dict[str, float] = {}
        self._block_time: tuple[float, int] = (0.0, 0)
        self._closed: set[bytes] = set()
        self._open: dict[bytes, tuple[float, int]] = {}  # unit -> (read at, record) while open
        self._policies: dict[tuple[int, int], Policy] = {}
        self._first_inspectors: dict[int, int] = {}

    def block_time(self) -> int:
        fetched, value = self._block_time
        if time.monotonic() - fetched > 1.0:
            value = int(self.chain.w3.eth.get_block("latest")["timestamp"])
            self._block_time = (time.monotonic(), value)
        return value

    def actor(self, account: str) -> tuple[int, int]:
        """(role bits, organisation GLN) of an account, cached for the reader's TTL."""
        hit = self._roles.get(account)
        if hit and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        roles, organization = self.chain.registry.functions.actor(account).call()
        self._roles[account] = (time.monotonic(), (int(roles), int(organization)))
        return int(roles), int(organization)

    def actor_roles(self, account: str) -> int:
        return self.actor(account)[0]

    def unit_states(self, unit_ids: list[bytes]) -> dict[bytes, int]:
        """`unitRecord` of units or parcels at the latest block, in one batched read. A closed
        unit never reopens, so it is remembered and not read again (its value here is then only
        the closed flag); an open one is read again after the reader's TTL, like roles: closings
        queued here are seen at once through the outbox, and one made elsewhere within the TTL is
        refused by the chain, whose error the message then carries. Existence is remembered for
        existing_units."""
        ids = list(dict.fromkeys(unit_ids))
        now = time.monotonic()
        fresh = {u: hit[1] for u in ids if (hit := self._open.get(u)) and now - hit[0] < self._ttl}
        unknown = [u for u in ids if u not in self._closed and u not in fresh]
        out = history.read_records(self.chain.registry, unknown, "latest") if unknown else {}
        for u, record in out.items():
            if record:
                self._units.add(u)
            if hashchain.is_closed(record):
                self._closed.add(u)
                self._open.pop(u, None)
            elif record:
                self._open[u] = (now, record)
        if len(self._open) > 100_000:  # a bounded cache: the oldest reads go first
            for u in sorted(self._open, key=lambda k: self._open[k][0])[: len(self._open) // 2]:
                del self._open[u]
        out.update(fresh)
        out.update({u: hashchain.CLOSED for u in ids if u in self._closed and u not in out})
        return out

    def existing_units(self, unit_ids: list[bytes]) -> set[bytes]:
        """Which of these units exist on-chain: one batched read for all those not known yet."""
        unknown = [u for u in unit_ids if u not in self._units]
        if unknown:
            self.unit_states(unknown)
        return {u for u in unit_ids if u in self._units}

    def parents(self, unit_ids: list[bytes]) -> dict[bytes, bytes]:
        """`parentOf` of units at the latest block: the parcel each is packed in (zero bytes: none)."""
        return history.read_parents(self.chain.registry, list(dict.fromkeys(unit_ids)), "latest")

    def parcel_sizes(self, parcel_ids: list[bytes]) -> dict[bytes, int]:
        """`parcelSize` of parcels at the latest block (a unit's id answers 0)."""
        return history.read_parcel_sizes(self.chain.registry, list(dict.fromkeys(parcel_ids)), "latest")

    def parcels_among(self, ids: list[bytes]) -> set[bytes]:
        """Which of these ids are parcels (`isParcel`, at the latest block): one batched read."""
        return {i for i, v in history.read_words(self.chain.registry, IS_PARCEL_SELECTOR, list(dict.fromkeys(ids)), "latest").items() if v}

    def last_orders(self, unit_ids: list[bytes]) -> dict[bytes, int]:
        """`ReturnEscrow.lastOrderOf` of many units at the latest block, in one batched read."""
        return history.read_words(self.chain.escrow, LAST_ORDER_OF_SELECTOR, list(dict.fromkeys(unit_ids)), "latest")

    def product(self, gtin: int) -> tuple[str, int, int] | None:
        """(brand, class flags, markets) of a registered GTIN, else None."""
        if gtin not in self._products:
            brand, flags, markets = self.chain.registry.functions.product(gtin).call()
            if int(brand, 16) == 0:
                return None
            self._products[gtin] = (brand, flags, markets)
        return self._products[gtin]

    def nonce(self, contract: str, signer: str) -> int:
        """`getNonce(signer)` at the latest block, as one raw eth_call: every accepted message reads
        it, and web3's contract call costs ~1 ms of CPU more (ABI lookup, validation, formatting)."""
        c = {"registry": self.chain.registry, "escrow": self.chain.escrow, "desk": self.chain.desk}[contract]
        word = bytes(12) + bytes.fromhex(signer[2:])  # the address argument's ABI word
        return history.read_words(c, GET_NONCE_SELECTOR, [word], "latest")[word]

    def is_contract(self, account: str) -> bool:
        """Contract wallets are remembered; an account without code is re-checked after the TTL
        (a wallet may be deployed at a counterfactual address later)."""
        if account in self._contracts:
            return True
        checked = self._eoas.get(account)
        if checked is not None and time.monotonic() - checked < 60:
            return False
        if len(self.chain.w3.eth.get_code(account)) > 0:
            self._contracts.add(account)
            return True
        self._eoas[account] = time.monotonic()
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

    def order(self, order_id: int) -> tuple:
        """IReturnEscrow.Order as a tuple (see ORDER_* indexes); an order that does not exist (the
        escrow reverts with ReturnEscrowUnknownOrder) comes back with status 0."""
        try:
            return tuple(self.chain.escrow.functions.order(order_id).call())
        except (ContractCustomError, ContractLogicError):
            return (None, 0, 0)

    def policy(self, market: int, version: int) -> Policy:
        """A market's policy version. Cached for good: a version never changes once set (setPolicy adds one)."""
        key = (int(market), int(version))
        if key not in self._policies:
            self._policies[key] = Policy.from_tuple(self.chain.policies.functions.policy(*key).call())
        return self._policies[key]

    def delivered_at(self, order_id: int) -> int:
        return int(self.chain.escrow.functions.deliveredAt(order_id).call())

    def first_inspection_organization(self, order_id: int) -> int | None:
        """The organisation of a high-value return's first inspector (the escrow keeps it private; its
        SecondInspectionRequired log states it), read once: it never changes."""
        if order_id not in self._first_inspectors:
            logs = self.chain.w3.eth.get_logs({
                "address": self.chain.escrow.address, "fromBlock": self.chain.deployment_block, "toBlock": "latest",
                "topics": [SECOND_INSPECTION_TOPIC, "0x" + int(order_id).to_bytes(32, "big").hex()],
            })
            if not logs:
                return None
            self._first_inspectors[order_id] = int.from_bytes(bytes(logs[-1]["data"])[:32], "big")
        return self._first_inspectors[order_id]

    def return_received_at(self, order_id: int) -> int:
        """When the warehouse's receiving scan under the order's RMA counts (0: not yet, or recorded before the request)."""
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


# IReturnEscrow.Order tuple positions the gateway reads.
ORDER_BUYER, ORDER_STATUS, ORDER_HYGIENE_SEALED, ORDER_GRADE, ORDER_REMEDY, ORDER_MERCHANT, ORDER_PRICE = 0, 2, 4, 7, 8, 9, 10
ORDER_DELIVERY_FEE, ORDER_UNIT, ORDER_RETURN_SHIPPING_FEE, ORDER_MARKET, ORDER_POLICY_VERSION, ORDER_REQUESTED_AT = 12, 13, 14, 15, 16, 17
# IReturnEscrow.OrderStatus values the gateway decides on.
ORDER_ACTIVE, ORDER_RETURN_REQUESTED, ORDER_SECOND_INSPECTION, ORDER_REFUNDED = 1, 2, 8, 9
