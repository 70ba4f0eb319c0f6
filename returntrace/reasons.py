"""The one table from the assistant's nine reason codes to the escrow's coarse ReturnReason.

The nine codes and the buyer's text stay off-chain (personal data; `safety_concern` is health
data): a signed ReturnRequest carries only the coarse reason, which the buyer sees and confirms
before signing because it affects money (ReturnReason.DEFECTIVE: the merchant pays the return
shipping). A statutory withdrawal carries ReturnReason.WITHDRAWAL whatever the buyer wrote: it
needs no reason.
"""

from __future__ import annotations

from .escrow import ReturnReason
from .i18n import N_

COARSE_REASON: dict[str, ReturnReason] = {
    "defective": ReturnReason.DEFECTIVE,
    "damaged_in_transit": ReturnReason.DAMAGED_IN_TRANSIT,
    "wrong_item": ReturnReason.WRONG_ITEM,
    "size_fit": ReturnReason.OTHER,
    "not_as_described": ReturnReason.NOT_AS_DESCRIBED,
    "changed_mind": ReturnReason.NO_LONGER_NEEDED,
    "baby_rejected": ReturnReason.OTHER,
    # An unsafe product is a defective one: the merchant bears the return, never the parent.
    "safety_concern": ReturnReason.DEFECTIVE,
    "late_delivery": ReturnReason.OTHER,
}


def coarse(reason: str | None) -> ReturnReason:
    """The on-chain reason of an assistant code; OTHER when no reason was recognised."""
    return COARSE_REASON[reason] if reason is not None else ReturnReason.OTHER


# What a buyer reads for each code (translated where shown: the return flow page).
REASON_LABEL: dict[str, str] = {
    "defective": N_("defective"),
    "damaged_in_transit": N_("damaged in transit"),
    "wrong_item": N_("wrong item"),
    "size_fit": N_("size or fit"),
    "not_as_described": N_("not as described"),
    "changed_mind": N_("changed mind"),
    "baby_rejected": N_("the baby refuses it"),
    "safety_concern": N_("a safety concern"),
    "late_delivery": N_("late delivery"),
}
