"""What the pages show of a product's signed master data (the brand's ProductInfo document): its name
in the page's language, image, size, material, applicable age, instructions per language and video,
with the document's proof. Pure presentation: the route passes in the stored document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from babel import Locale, UnknownLocaleError

from ...read.names import Named
from ...store.documents import Document
from .i18n import Language, _, current, ngettext


class NameLookup(Protocol):
    """Names by the numbers the chain knows (api/read/names.py Names)."""

    def organization(self, gln: int | str | None) -> Named | None: ...

    def organizations(self, glns: Iterable[int | str | None]) -> dict[Any, Named]: ...

    def actor(self, account: str | None) -> Named | None: ...

    def actors(self, accounts: Iterable[str | None]) -> dict[Any, Named]: ...

    def product(self, gtin14: str) -> Document | None: ...


@dataclass
class Instruction:
    language: str  # the language's name in the page's language: "Deutsch" on a German page, "German" on an English one
    tag: str
    cid: str


@dataclass
class ProductCard:
    name: str | None
    name_tag: str | None  # BCP 47 tag of the name shown (its lang attribute)
    image_cid: str | None
    size: str
    material: str
    age: str | None
    instructions: list[Instruction] = field(default_factory=list)
    video: str | None = None
    proof: Named | None = None


def pick(entries: Sequence[dict[str, Any]], language: Language) -> dict[str, Any] | None:
    """The entry in the page's language: its exact tag, else the same language (`zh` for `zh-Hans`),
    else English, else the first the brand gave."""
    if not entries:
        return None
    tags = {e["lang"].lower(): e for e in entries}
    primary = language.tag.split("-")[0].lower()
    for wanted in (language.tag.lower(), primary):
        if wanted in tags:
            return tags[wanted]
    same = [e for e in entries if e["lang"].split("-")[0].lower() == primary]
    return same[0] if same else tags.get("en", entries[0])


def language_name(tag: str, language: Language) -> str:
    """A language tag as the page's reader calls it (CLDR names via Babel); the tag itself if unknown."""
    try:
        return str(Locale.parse(tag, sep="-").get_display_name(language.locale) or tag)
    except (ValueError, UnknownLocaleError):
        return tag


def _age(months: int) -> str:
    if months and months % 12 == 0:
        return ngettext("%(n)s year", "%(n)s years", months // 12) % {"n": months // 12}
    return ngettext("%(n)s month", "%(n)s months", months) % {"n": months}


def age_range(start: int, end: int) -> str | None:
    """The applicable age: "0 months to 3 years", "from 3 years"; None when the brand set none."""
    if not start and not end:
        return None
    if not end:
        return _("from %(age)s") % {"age": _age(start)}
    return _("%(start)s to %(end)s") % {"start": _age(start), "end": _age(end)}


def product_card(document: Document | None) -> ProductCard | None:
    if document is None:
        return None
    m, language = document.message, current()
    name = pick(m["names"], language)
    return ProductCard(
        name=name["text"] if name else None,
        name_tag=name["lang"] if name else None,
        image_cid=m["image"] or None,
        size=m["size"],
        material=m["material"],
        age=age_range(int(m["ageFromMonths"]), int(m["ageToMonths"])),
        instructions=[
            Instruction(language_name(i["lang"], language), i["lang"], i["cid"])
            for i in sorted(
                m["instructions"], key=lambda i: i["lang"] != (pick(m["instructions"], language) or {}).get("lang")
            )
        ],
        video=m["video"] or None,
        proof=Named(name["text"] if name else "", document.id, document.block_number),
    )
