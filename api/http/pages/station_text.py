"""The inspection station's words (api/http/pages/assets/station.js), in the page's language.

As for the return flow (return_flow_text.py): JSON in the root element's data-text, `{name}`
placeholders the script fills, written with textContent only. The shared pieces (wallet.js) use
noWallet, baseUnits and the message states, so those keys are the flow's own words.
"""

from __future__ import annotations

from returntrace.escrow import Facts

from .i18n import N_, _
from .return_flow_text import FLOW_TEXT
from .signed_in import role_words

# The checklist: each fact an inspector attests, its bit (returntrace.escrow.Facts) and its words.
FACTS: tuple[tuple[int, str, str], ...] = (
    (Facts.SEAL_INTACT, "seal_intact", N_("The seal is intact")),
    (Facts.PACKAGING_INTACT, "packaging_intact", N_("The original packaging is intact")),
    (Facts.USED, "used", N_("The unit was used")),
    (Facts.DEFECTIVE, "defective", N_("The unit is defective")),
)

SHARED = ("noWallet", "baseUnits", "signingIn", "signedIn", "reading", "accepted", "submitted", "confirmed", "failed")

STATION_TEXT: dict[str, str] = {
    "badCode": N_("Not a unit code: scan its barcode, paste its link or type its GTIN and serial."),
    "noCamera": N_("This browser cannot read barcodes from the camera: type or paste the code."),
    "unit": N_("GTIN {gtin} · serial {serial}"),
    "order": N_("Order {order} · {status}"),
    "verified": N_("History verified against the blockchain (block {block})."),
    "notVerified": N_("History not verified: {reason}"),
    "step": N_("{time} · {step} · {role} · {location}"),
    "grade": N_("Grade {grade}"),
    "buyerGets": N_("The buyer gets {refund}"),
    "buyerGetsPoints": N_("The buyer gets {refund} and store points worth {points}"),
    "merchantGets": N_("The merchant gets {amount}"),
    "statutory": N_("The law decides this refund (statutory withdrawal)."),
    "thenSettles": N_("Signing settles the order at once."),
    "thenContest": N_("The buyer may contest this grade until the dispute window ends; then it settles."),
    "thenSecond": N_("A second opinion: it settles if it agrees with the first, else the arbiter decides."),
    "thenDisposition": N_("Refunded already: this inspection decides what happens to the unit."),
    "terms": N_("Grade {grade}: refund {refund}, store points {points}, return shipping paid by {payer}; then {fate}"),
    "payerMerchant": N_("the merchant"),
    "payerBuyer": N_("the buyer"),
    "uploading": N_("Uploading {name}…"),
    "photo": N_("{name}: {cid}"),
    "evidence": N_("Evidence of this inspection: {cid}"),
    "notInspector": N_("This wallet is not an accredited inspector: it may look, not sign."),
    "signScan": N_("Sign the inspection scan of the unit in your wallet…"),
    "signInWallet": N_("Sign the inspection in your wallet…"),
    "settledState": N_("The order is now: {status}."),
}


def station_text() -> dict[str, str]:
    """The script's words in the current language (i18n.use)."""
    return {
        **{key: _(FLOW_TEXT[key]) for key in SHARED},
        **{key: _(text) for key, text in STATION_TEXT.items()},
        **role_words(),  # the signed-in bar's (wallet.js showSignedIn)
    }
