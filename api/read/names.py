"""Names for what the chain knows by number: an organisation's name by its GLN (the accreditor's
signed OrganizationName), an actor's by its organisation, a product's master data by its GTIN (the
brand's signed ProductInfo). Each answer carries the signed document's id and the block at which its
signer's authority was checked, so a page shows the name with its proof one tap away.

Only documents the gateway accepted (api/write/documents.py) are read; none: the number stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from returntrace.documents import DOCUMENTS

from ..store.documents import Document, SqliteDocuments
from ..store.index import SqliteIndex


@dataclass(frozen=True)
class Named:
    text: str
    document: str  # the signed document's id (its EIP-712 digest): /v1/documents/by-id/{document}
    block: int  # where the signer's authority was checked
    country: str = ""


class Names:
    def __init__(self, documents: SqliteDocuments, index: SqliteIndex) -> None:
        self.documents, self.index = documents, index

    def _current(self, kind: str, **subject: Any) -> Document | None:
        return self.documents.current(kind, DOCUMENTS[kind].subject_of(subject))

    def organization(self, gln: int | str | None) -> Named | None:
        """The accreditor's name for an organisation (or a site) by its GLN."""
        if gln in (None, "", 0, "0"):
            return None
        found = self._current("OrganizationName", organization=int(str(gln)))
        if found is None:
            return None
        return Named(found.message["name"], found.id, found.block_number, found.message.get("country", ""))

    def actor(self, account: str | None) -> Named | None:
        """The name of the organisation the accreditor recorded for an actor's key."""
        if not account or not account.startswith("0x") or len(account) != 42:
            return None
        with self.index.read() as r:
            organization = r.organization(to_checksum_address(account))
        return self.organization(organization)

    def product(self, gtin14: str) -> Document | None:
        """The brand's ProductInfo in force for a GTIN."""
        return self._current("ProductInfo", gtin=int(gtin14))
