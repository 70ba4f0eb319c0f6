"""The return flow script's own words (api/http/pages/assets/return-flow.js), in the page's language.

The page hands them to the script as JSON in a data attribute of its root element (not a script: the
nonce policy is unaffected); the script fills `{name}` placeholders and writes with textContent only.
Braces, not `%(name)s`: the template's gettext would try to fill `%(…)s` itself.
"""

from __future__ import annotations

from returntrace.reasons import REASON_LABEL

from .consumer_page import REASON_TEXT
from .i18n import N_, _
from .signed_in import ROLE_TEXT

FLOW_TEXT: dict[str, str] = {
    "noWallet": N_("No wallet found: open this page in a wallet's browser or install a wallet extension."),
    "baseUnits": N_("{value} base units of {currency}"),
    "signingIn": N_("Signing in as {account}…"),
    "signedIn": N_("Signed in: {account}"),
    "reading": N_("Reading…"),
    "notBuyer": N_(
        "This wallet did not buy this unit: only its buyer sees the return options. "
        "The unit's history stays on its page."
    ),
    "reason": N_("Reason: {reason} (language {language})."),
    "noReason": N_("The assistant could not tell the reason (language {language})."),
    "handoff": N_("A person from the shop will answer you ({why})."),
    "handoffUrgent": N_("Urgent: a person from the shop will answer you ({why})."),
    "case": N_("Case {id} is open for you; the shop answers by {due}."),
    "caseKept": N_("Case {id} is open for you; the shop answers by {due} (your words were kept for them)."),
    "optionsWhy": N_("Why no other option: {why}."),
    "legalRight": N_("Your legal right."),
    "grade": N_("Grade {grade} ({condition})"),
    "pointsWorth": N_("store points worth {amount}"),
    "refundPlusPoints": N_("{refund} + store points worth {points}"),
    "refund": N_("Refund: {amount}"),
    "replacement": N_("A replacement unit is sent to you."),
    "until": N_("Until {time}"),
    "withdrawalForm": N_("The EU model withdrawal form"),
    "choose": N_("Choose"),
    "reasonRecorded": N_("Reason recorded on the blockchain"),
    "withdrawalNoReason": N_("{reason} (no reason given: none is needed)"),
    "remedy": N_("Remedy"),
    "remedyExchange": N_("store points (exchange)"),
    "remedyRefund": N_("refund"),
    "order": N_("Order"),
    "signedBy": N_("Signed by"),
    "needPhoto": N_("Add a photo of the problem first."),
    "signInWallet": N_("Sign the request in your wallet…"),
    "accepted": N_("Accepted by the gateway, waiting to be sent to the blockchain…"),
    "submitted": N_("Sent to the blockchain, waiting for it to be recorded…"),
    "confirmed": N_("Recorded on the blockchain. Block {block}."),
    "failed": N_("The blockchain refused it: {error}"),
    "rated": N_("Thank you: your rating ({score} of 5) is recorded, signed by you."),
}


# Codes the gateway answers with, as the buyer reads them: the assistant's reasons ("reason.*"), the
# coarse on-chain reason the request records ("onchain.*"), why a person answers ("why.*"), and the errors
# the buyer can act on ("error.*"; any other error shows the gateway's own message).
CODE_TEXT: dict[str, str] = {
    **{f"reason.{code}": label for code, label in REASON_LABEL.items()},
    **{f"onchain.{key}": text for key, text in REASON_TEXT.items()},
    "why.safety_concern": N_("a safety concern"),
    "why.safety_lexicon": N_("words about a child's safety"),
    "why.low_confidence": N_("the assistant is unsure"),
    "why.unknown_language": N_("a language the assistant does not read"),
    "why.above_value": N_("the order's value"),
    "why.repeated_returns": N_("several returns"),
    "why.asked_for_person": N_("you asked for a person"),
    "why.buyer_required": N_("sign in as the buyer to see the options"),
    "why.order_not_active": N_("the order is already being returned or settled"),
    "error.mixed_languages": N_("Please write in one language."),
    "error.no_order": N_("This unit has no order: there is nothing to return here."),
    "error.not_delivered": N_("The order is not delivered yet: the return period starts at delivery."),
    "error.return_window_closed": N_(
        "The return period has ended. For a defect, tick “I want to talk to a person” and send again."
    ),
}


def flow_text() -> dict[str, str]:
    """The script's words in the current language (i18n.use)."""
    # role.*: the signed-in bar's (wallet.js showSignedIn)
    return {key: _(text) for key, text in (FLOW_TEXT | CODE_TEXT | ROLE_TEXT).items()}
