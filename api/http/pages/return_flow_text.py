"""The return flow script's own words (api/http/pages/assets/return-flow.js), in the page's language.

The page hands them to the script as JSON in a data attribute of its root element (not a script: the
nonce policy is unaffected); the script fills `{name}` placeholders and writes with textContent only.
Braces, not `%(name)s`: the template's gettext would try to fill `%(…)s` itself.
"""

from __future__ import annotations

from .i18n import N_, _

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


def flow_text() -> dict[str, str]:
    """The script's words in the current language (i18n.use)."""
    return {key: _(text) for key, text in FLOW_TEXT.items()}
