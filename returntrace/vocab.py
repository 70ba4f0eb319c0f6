"""EPCIS/CBV vocabularies as the contracts number them (ITraceRegistry.BizStep / Disposition).

CBV 2.0 words map to `https://ref.gs1.org/cbv/BizStep-<word>` and `…/Disp-<word>`; what CBV has
no word for is a ReturnTrace extension under `urn:returntrace:…`, as EPCIS 2.0 allows.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

from .i18n import N_

CBV = "https://ref.gs1.org/cbv/"
EXT = "urn:returntrace:"


class Role(IntFlag):
    """ActorRoles bits (contracts/utils/ActorRoles.sol)."""

    BRAND = 1
    CARRIER = 2
    WAREHOUSE = 4
    INSPECTOR = 8
    CHARITY = 16
    RECYCLER = 32
    MERCHANT_STAFF = 64  # acts for its organisation's merchant on cases and disputes; signs no step


class BizStep(IntEnum):
    COMMISSIONING = 1
    PACKING = 2
    UNPACKING = 3
    SHIPPING = 4
    DEPARTING = 5
    ARRIVING = 6
    CUSTOMS_CLEARING = 7  # extension: customs released the goods for import
    DELIVERING = 8  # extension: the carrier handed the unit to the consumer
    ACCEPTING = 9
    RECEIVING = 10
    INSPECTING = 11
    HOLDING = 12
    STORING = 13
    REPACKAGING = 14
    DESTROYING = 15
    DECOMMISSIONING = 16

    @property
    def uri(self) -> str:
        if self in (BizStep.CUSTOMS_CLEARING, BizStep.DELIVERING):
            return f"{EXT}bizstep:{self.name.lower()}"
        return f"{CBV}BizStep-{self.name.lower()}"


class Disposition(IntEnum):
    NONE = 0
    ACTIVE = 1
    IN_TRANSIT = 2
    IN_PROGRESS = 3
    RETURNED = 4
    DAMAGED = 5
    CONFORMANT = 6
    NON_CONFORMANT = 7
    SELLABLE_ACCESSIBLE = 8
    SELLABLE_NOT_ACCESSIBLE = 9
    NON_SELLABLE_OTHER = 10
    DESTROYED = 11
    DISPOSED = 12
    INACTIVE = 13
    RECALLED = 14
    NEEDS_REPLACEMENT = 15
    EXPIRED = 16
    CONTAINER_CLOSED = 17
    CONTAINER_OPEN = 18
    RETAIL_SOLD = 19
    DELIVERED = 20  # extension
    DONATED = 21  # extension
    RECYCLED = 22  # extension

    @property
    def uri(self) -> str | None:
        if self is Disposition.NONE:
            return None
        if self >= Disposition.DELIVERED:
            return f"{EXT}disp:{self.name.lower()}"
        return f"{CBV}Disp-{self.name.lower()}"


# Who may sign which step; TraceRegistry.allowedRoles holds the same table for record() (a test
# compares them; commissioning and decommissioning have calls of their own, where allowedRoles is 0).
STEP_ROLES: dict[BizStep, Role] = {
    BizStep.COMMISSIONING: Role.BRAND,  # through commission(), not record()
    BizStep.PACKING: Role.BRAND | Role.CARRIER | Role.WAREHOUSE,
    BizStep.UNPACKING: Role.BRAND | Role.CARRIER | Role.WAREHOUSE,
    BizStep.SHIPPING: Role.BRAND | Role.CARRIER | Role.WAREHOUSE,
    BizStep.DEPARTING: Role.CARRIER,
    BizStep.ARRIVING: Role.CARRIER | Role.WAREHOUSE,
    BizStep.CUSTOMS_CLEARING: Role.CARRIER,
    BizStep.DELIVERING: Role.CARRIER,
    BizStep.ACCEPTING: Role.CARRIER | Role.WAREHOUSE,
    BizStep.RECEIVING: Role.WAREHOUSE | Role.CHARITY | Role.RECYCLER,
    BizStep.INSPECTING: Role.INSPECTOR,
    BizStep.HOLDING: Role.WAREHOUSE,
    BizStep.STORING: Role.WAREHOUSE,
    BizStep.REPACKAGING: Role.WAREHOUSE,
    BizStep.DESTROYING: Role.WAREHOUSE | Role.RECYCLER,
    BizStep.DECOMMISSIONING: Role.BRAND,  # through decommission(), its stock only; not record()
}

# What ends a unit's lifecycle: after such an event the registry accepts none on the unit
# (TraceRegistry._closes holds the same rule).
CLOSING_DISPOSITIONS = frozenset({Disposition.DESTROYED, Disposition.DONATED, Disposition.RECYCLED})
# Dispositions only a partner may sign (TraceRegistry._checkStep).
PARTNER_DISPOSITIONS: dict[Disposition, Role] = {Disposition.DONATED: Role.CHARITY, Disposition.RECYCLED: Role.RECYCLER}


def closes(step: int, disposition: int) -> bool:
    """Whether an event with this step and disposition closes its unit (or parcel)."""
    return disposition in CLOSING_DISPOSITIONS or step == BizStep.DECOMMISSIONING


class AggregationAction(IntEnum):
    """ITraceRegistry.AggregationAction: EPCIS AggregationEvent action."""

    ADD = 1
    DELETE = 2


class Milestone(IntEnum):
    """ITraceRegistry.Milestone: facts the escrow reads from the registry (`milestone(unit, ref, m)`)."""

    DELIVERED = 0
    RETURN_RECEIVED = 1
    DISPATCHED = 2


# Product class flags (ITraceRegistry.Product.classFlags).
HYGIENE_SEALED = 1

# What a parent reads on the consumer page for each step.
STEP_LABELS: dict[BizStep, str] = {
    BizStep.COMMISSIONING: N_("Made"),
    BizStep.PACKING: N_("Packed"),
    BizStep.UNPACKING: N_("Unpacked"),
    BizStep.SHIPPING: N_("Shipped"),
    BizStep.DEPARTING: N_("Departed"),
    BizStep.ARRIVING: N_("Arrived"),
    BizStep.CUSTOMS_CLEARING: N_("Cleared customs"),
    BizStep.DELIVERING: N_("Delivered"),
    BizStep.ACCEPTING: N_("Picked up for return"),
    BizStep.RECEIVING: N_("Received"),
    BizStep.INSPECTING: N_("Inspected"),
    BizStep.HOLDING: N_("Held"),
    BizStep.STORING: N_("Stored"),
    BizStep.REPACKAGING: N_("Repackaged"),
    BizStep.DESTROYING: N_("Destroyed"),
    BizStep.DECOMMISSIONING: N_("Decommissioned"),
}
_RECEIVED_BY = {
    Role.WAREHOUSE: N_("Received at return center"),
    Role.CHARITY: N_("Received by charity"),
    Role.RECYCLER: N_("Received by recycler"),
}


def signer_role(step: int, roles: int) -> str:
    """The role in which an actor with role bits `roles` signed `step`: the lowest of its roles
    allowed for the step ("brand", "carrier", …), else its lowest role, else "unaccredited"."""
    try:
        allowed = STEP_ROLES[BizStep(step)]
    except ValueError:
        allowed = Role(0)
    for candidates in (roles & allowed, roles):
        for role in Role:
            if candidates & role and role.name is not None:  # single flags are named; only combinations are not
                return role.name.lower()
    return "unaccredited"


def step_label(step: int, roles: int = 0) -> str:
    """ "Made", "Shipped", …; a receiving scan says who received the unit."""
    try:
        s = BizStep(step)
    except ValueError:
        return f"Step {step}"
    if s is BizStep.RECEIVING:
        role = signer_role(step, roles)
        return _RECEIVED_BY.get(Role[role.upper()], STEP_LABELS[s]) if role != "unaccredited" else STEP_LABELS[s]
    return STEP_LABELS[s]
