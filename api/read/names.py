"""Names for what the chain knows by number: an organisation's name by its GLN (the accreditor's
signed OrganizationName), an actor's by its organisation, a product's master data by its GTIN (the
brand's signed ProductInfo). Each answer carries the signed document's id and the block at which its
signer's authority was checked, so a page shows the name with its proof one tap away.

Only documents the gateway accepted (api/write/documents.py) are read; none: the number stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
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
        return self.organizations([gln]).get(gln)

    def organizations(self, glns: Iterable[int | str | None]) -> dict[Any, Named]:
        """organization() of many GLNs in one read of the documents: {gln as given: its name}, for the named."""
        wanted = {gln: int(str(gln)) for gln in glns if gln not in (None, "", 0, "0")}
        kind = DOCUMENTS["OrganizationName"]
        subjects = {gln: kind.subject_of({"organization": number}) for gln, number in wanted.items()}
        found = self.documents.current_of(kind.name, subjects.values())
        return {gln: _named(found[subject]) for gln, subject in subjects.items() if subject in found}

    def actor(self, account: str | None) -> Named | None:
        """The name of the organisation the accreditor recorded for an actor's key."""
        return self.actors([account]).get(account)

    def actors(self, accounts: Iterable[str | None]) -> dict[Any, Named]:
        """actor() of many keys (a page's signers) in one read of the index and one of the documents:
        {account as given: its organisation's name}, for the named."""
        wanted = {a: _checksum(a) for a in accounts if a and a.startswith("0x") and len(a) == 42}
        with self.index.read() as r:
            organization = r.organizations(list(wanted.values()))
        of = {a: organization.get(checksummed) for a, checksummed in wanted.items()}
        names = self.organizations(of.values())
        return {a: names[gln] for a, gln in of.items() if gln in names}

    def product(self, gtin14: str) -> Document | None:
        """The brand's ProductInfo in force for a GTIN."""
        return self._current("ProductInfo", gtin=int(gtin14))


def _named(found: Document) -> Named:
    return Named(found.message["name"], found.id, found.block_number, found.message.get("country", ""))


# Pure and asked again for the same few keys on every page: its keccak was a tenth of a page's time.
_checksum = lru_cache(maxsize=4096)(to_checksum_address)
