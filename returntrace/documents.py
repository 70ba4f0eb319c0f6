"""Documents signed off-chain with EIP-712 by an accredited key: what an organisation states for
people to read (its name, a product's master data, a carrier's rate card) and that no contract
needs to enforce. The gateway keeps each with its signature and the block at which it checked the
signer's authority, so a page built from it can be proved by anyone with the chain.

Every kind is signed under one domain of its own, `ReturnTrace Documents` version 1, bound to the
chain id and the TraceRegistry (which holds the roles that give the authority): a signature made
for one deployment is worthless on another, and is never a valid contract message (whose domains
carry the contracts' own names).

A kind names its subject fields (what the document is about: the latest document per subject is
the one in force, by `issuedAt`) and who may sign it: the registry's accreditor, an actor
holding one of `roles`, or the buyer of the order it names. A `restricted` kind is served only to the
readers its rule names (trade or personal data), never publicly. Adding a kind is one entry in
DOCUMENTS plus its gateway checks (api/write/documents.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .kinds import Field
from .vocab import Role

DOMAIN_NAME = "ReturnTrace Documents"
DOMAIN_VERSION = "1"

# Every document names its signer and when it was issued: a later one replaces an earlier one of
# the same subject, and an earlier one posted late never does.
_TAIL: tuple[Field, ...] = (("address", "signer"), ("uint64", "issuedAt"))


class Authority(Enum):
    ACCREDITOR = "accreditor"  # holds the registry's ACCREDITOR_ROLE
    ACTOR = "actor"  # an accredited actor holding one of the kind's roles
    BUYER = "buyer"  # the buyer of the order the document names (`orderId`), read from the escrow


@dataclass(frozen=True)
class DocumentKind:
    name: str  # the EIP-712 primary type
    fields: tuple[Field, ...]  # in signing order, ending with the signer and issuedAt
    subject: tuple[str, ...]  # the fields that name what the document is about
    authority: Authority
    roles: Role = Role(0)  # for Authority.ACTOR: any one of these
    structs: tuple[tuple[str, tuple[Field, ...]], ...] = ()  # nested struct types it references
    description: str = ""
    # Served only to the readers its rule names (api/http/auth/access.py, document_reader), never on
    # public pages or to anonymous requests: trade data, personal data.
    restricted: bool = False

    def subject_of(self, message: dict[str, Any]) -> str:
        """The subject as one string key ("<field>=<value>" joined by "&"), for the store and URLs."""
        return "&".join(f"{name}={_key_text(message[name])}" for name in self.subject)


def _key_text(value: Any) -> str:
    return value.lower() if isinstance(value, str) and value.startswith("0x") else str(value)


DOCUMENTS: dict[str, DocumentKind] = {
    d.name: d
    for d in (
        DocumentKind(
            "OrganizationName",
            (("uint64", "organization"), ("string", "name"), ("string", "country"), *_TAIL),
            subject=("organization",),
            authority=Authority.ACCREDITOR,
            description="the name an organisation (by its GLN) is shown under, recorded by the accreditor that "
            "accredits it; `country` is its ISO 3166-1 alpha-2 code",
        ),
        DocumentKind(
            "RateCard",
            (
                ("uint64", "originMarkets"),
                ("uint64", "destination"),
                ("uint8", "destinationMarket"),
                ("uint8", "service"),
                ("string", "currency"),
                ("WeightBand[]", "bands"),
                ("uint16", "transitDays"),
                ("uint64", "validFrom"),
                ("uint64", "validUntil"),
                *_TAIL,
            ),
            subject=("signer", "originMarkets", "destination", "destinationMarket", "service", "currency"),
            authority=Authority.ACTOR,
            roles=Role.CARRIER,
            structs=(("WeightBand", (("uint32", "maxGrams"), ("uint64", "price"))),),
            description="a carrier's prices for one return lane (returntrace/shipping.py): from the markets of "
            "`originMarkets` (bits) to the GLN `destination`, or with 0 to any return center accredited for "
            "`destinationMarket`; `service` 0 drop-off, 1 pickup; `currency` ISO 4217, prices in its minor unit per "
            "weight band (ascending `maxGrams`); valid from `validFrom` to `validUntil` (unix seconds)",
        ),
        DocumentKind(
            "ProductInfo",
            (
                ("uint64", "gtin"),
                ("LocalText[]", "names"),
                ("string", "image"),
                ("string", "size"),
                ("string", "material"),
                ("uint16", "ageFromMonths"),
                ("uint16", "ageToMonths"),
                ("LocalFile[]", "instructions"),
                ("string", "video"),
                *_TAIL,
            ),
            subject=("gtin",),
            authority=Authority.ACTOR,
            roles=Role.BRAND,
            structs=(
                ("LocalText", (("string", "lang"), ("string", "text"))),
                ("LocalFile", (("string", "lang"), ("string", "cid"))),
            ),
            description="a product's master data, signed by the brand that registered the GTIN: its name per "
            "language (BCP 47 tags), an image and instructions per language as evidence files (CIDs from POST "
            "/v1/evidence), size, material, the applicable age in months (ageToMonths 0: no upper limit) and an "
            "https video link (empty: none)",
        ),
        DocumentKind(
            "CustomsDeclaration",
            (
                ("uint64", "gtin"),
                ("string", "serial"),
                ("string", "regime"),
                ("string", "declarationReference"),
                ("bytes32", "salt"),
                ("address", "declarant"),
                *_TAIL,
            ),
            subject=("gtin", "serial"),
            authority=Authority.ACTOR,
            roles=Role.BRAND,
            restricted=True,
            description="the customs declaration a unit's customs-clearing scan commits to "
            "(TraceRegistry.customsCommitment(declarationReference, salt), returntrace/customs.py), signed by the "
            "GTIN's brand: accepted only if it opens the commitment of a customs-clearing scan in the unit's verified "
            "history; `regime` a code of returntrace/customs_regimes.py (EU-UCC-203, US-HTSUS-9801.00.10, "
            "CN-CBEC-RETURN); `declarant` the customs declarant who may read it. Served only to the brand's side and "
            "the declarant",
        ),
        DocumentKind(
            "SatisfactionRating",
            (("address", "buyer"), ("uint256", "orderId"), ("uint8", "score"), *_TAIL),
            subject=("orderId",),
            authority=Authority.BUYER,
            restricted=True,
            description="the buyer's rating (`score` 1 to 5; satisfied: 4 or more) of an order once settled, "
            "signed by the order's buyer (`buyer`, the signer); a later one replaces an earlier one. Personal data: "
            "served only to the order's buyer, merchant side and auditors",
        ),
        DocumentKind(
            "ReturnAnalyticsSettings",
            (
                ("uint64", "baselineFrom"),
                ("uint64", "baselineTo"),
                ("uint16", "restockBps"),
                ("uint16", "donateBps"),
                ("uint16", "recycleBps"),
                ("uint16", "highReturnBps"),
                *_TAIL,
            ),
            subject=("signer",),
            authority=Authority.ACTOR,
            roles=Role.BRAND,
            description="a brand's settings of its return analytics (docs/analytics.md): the baseline period its "
            "return costs are compared with (`baselineFrom` inclusive to `baselineTo` exclusive, unix seconds; 0 "
            "and 0: none), the residual value of a restocked, donated and recycled unit in basis points of its "
            "price, and the return rate in basis points above which a GTIN is in the high-return report",
        ),
    )
}
