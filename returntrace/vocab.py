"""EPCIS/CBV vocabularies as the contracts number them (ITraceRegistry.BizStep / Disposition).

CBV 2.0 words map to `https://ref.gs1.org/cbv/BizStep-<word>` and `…/Disp-<word>`; what CBV has
no word for is a ReturnTrace extension under `urn:returntrace:…`, as EPCIS 2.0 allows.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

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


# Who may sign which step; TraceRegistry.allowedRoles holds the same table (a test compares them).
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
    BizStep.DECOMMISSIONING: Role.BRAND | Role.RECYCLER,
}

# Product class flags (ITraceRegistry.Product.classFlags).
HYGIENE_SEALED = 1
