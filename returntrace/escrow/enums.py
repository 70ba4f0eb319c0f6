"""The escrow's enumerations as IReturnEscrow and IReturnPolicies declare them, member for member.

Python names are the Solidity names in upper snake case (`ReturnRequested` -> `RETURN_REQUESTED`);
`key` is the lower-case form the index, the JSON and the pages use (`return_requested`).
tests/unit/test_escrow_model.py holds every enum here to the compiled contracts' AST.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

E = TypeVar("E", bound="EscrowEnum")


class EscrowEnum(IntEnum):
    """An enum of the contracts: its value is the uint8 the ABI carries."""

    @property
    def key(self) -> str:
        """The member's name as the index and the JSON write it: `return_requested`."""
        return self.name.lower()

    @classmethod
    def from_key(cls: type[E], key: str) -> E:
        """The member a `key` names; KeyError for none."""
        return cls[key.upper()]

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(m.key for m in cls)

    @classmethod
    def key_of(cls, value: int) -> str:
        """The key of `value`, or the number itself for a value the enum does not have (a row of a
        copy that was altered, a newer contract)."""
        member = cls._value2member_map_.get(int(value))
        return member.key if member is not None else str(value)  # type: ignore[attr-defined]


class OrderStatus(EscrowEnum):
    """IReturnEscrow.OrderStatus. `SETTLED`, `COMPLETED`, `CANCELLED` and `REISSUED` are terminal for the money."""

    NONE = 0  # no such order
    ACTIVE = 1
    RETURN_REQUESTED = 2
    INSPECTED = 3
    DISPUTED = 4
    SETTLED = 5
    COMPLETED = 6
    CANCELLED = 7
    SECOND_INSPECTION = 8  # a high-value return waits for another house's attestation
    REFUNDED = 9  # paid before any inspection; an inspection may still decide the unit's fate
    DEFECT_CLAIMED = 10
    REISSUE_APPROVED = 11
    REISSUED = 12


class ReturnReason(EscrowEnum):
    """IReturnEscrow.ReturnReason: recorded for analytics; only `DEFECTIVE` changes who pays shipping."""

    WITHDRAWAL = 0
    DEFECTIVE = 1
    NOT_AS_DESCRIBED = 2
    WRONG_ITEM = 3
    DAMAGED_IN_TRANSIT = 4
    NO_LONGER_NEEDED = 5
    OTHER = 6


class Remedy(EscrowEnum):
    """IReturnEscrow.Remedy: cash, or store points worth the refund plus the policy's bonus."""

    REFUND = 0
    EXCHANGE = 1


class SettlementPath(EscrowEnum):
    """IReturnEscrow.SettlementPath: the path that paid a settlement (OrderSettled.path)."""

    GRADED = 0  # an inspection the buyer accepted or let pass, or grade A at once
    ARBITRATED = 1  # the arbiter's decision, on facts it may have corrected
    ARBITER_SILENT = 2  # the arbiter did not decide in time: the attested facts decided
    OVERDUE = 3  # the statutory refund fell due: the attested facts decided, or the uninspected amount
    UNINSPECTED = 4  # received but not inspected within the SLA: price and delivery back
    ON_RECEIPT = 5  # released at an accredited return center's receiving scan, as grade A
    DISPATCHED = 6  # sent back (the carrier's scan) but never received: as grade A
    UNIT_CLOSED = 7  # the unit was closed while the order held it: price and delivery back
    REISSUE_FAILED = 8  # a replacement never came and the policy waives the defective unit's return


class Grade(EscrowEnum):
    """IReturnPolicies.Grade."""

    NONE = 0  # no inspection decided
    A = 1  # unopened, seal intact (or defective)
    B = 2  # opened, unused
    C = 3  # used


class UnitDisposition(EscrowEnum):
    """IReturnPolicies.Disposition: what happens to a returned unit after settlement, per grade
    (not the registry's EPCIS disposition, returntrace.vocab.Disposition)."""

    RESTOCK = 0
    DONATE = 1
    RECYCLE = 2
    DESTROY = 3


class PolicyViolation(EscrowEnum):
    """IReturnPolicies.PolicyViolation: which rule ReturnPolicies.setPolicy found broken."""

    BPS_ABOVE_MAX = 0
    SPLIT_ABOVE_MAX = 1
    NO_RETURN_WINDOW = 2
    NO_INSPECTION_SLA = 3
    NO_DISPUTE_WINDOW = 4
    NO_DELIVERY_TIMEOUT = 5
    NO_ARBITER_TIMEOUT = 6
    SLA_BEYOND_REFUND_DEADLINE = 7
    BONUS_WITHOUT_EXCHANGE = 8
    HYGIENE_EXEMPTION_NOT_IN_LAW = 9
    RELAY_DELAY_TOO_LONG = 10
    NO_LAW = 11


class Facts:
    """Inspection fact bits an inspector attests (IReturnPolicies: 1 SEAL_INTACT, 2 PACKAGING_INTACT,
    4 USED, 8 DEFECTIVE). Plain ints: an inspection states any combination."""

    SEAL_INTACT = 1
    PACKAGING_INTACT = 2
    USED = 4
    DEFECTIVE = 8
    ALL = 15  # the contracts refuse any other bit (ReturnEscrowInvalidFacts)

    NAMES = (
        (SEAL_INTACT, "seal_intact"),
        (PACKAGING_INTACT, "packaging_intact"),
        (USED, "used"),
        (DEFECTIVE, "defective"),
    )

    @classmethod
    def names(cls, bits: int | None) -> list[str]:
        """The facts `bits` states, by name, in bit order."""
        return [name for bit, name in cls.NAMES if (bits or 0) & bit]


# The Solidity name of each enum: what an ABI's internalType says (`enum IReturnEscrow.OrderStatus`).
ENUMS: dict[str, type[EscrowEnum]] = {
    "IReturnEscrow.OrderStatus": OrderStatus,
    "IReturnEscrow.ReturnReason": ReturnReason,
    "IReturnEscrow.Remedy": Remedy,
    "IReturnEscrow.SettlementPath": SettlementPath,
    "IReturnPolicies.Grade": Grade,
    "IReturnPolicies.Disposition": UnitDisposition,
    "IReturnPolicies.PolicyViolation": PolicyViolation,
}
