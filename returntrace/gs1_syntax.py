"""GS1's Barcode Syntax Dictionary, read into a table of Application Identifiers (AIs).

The dictionary is GS1's machine-readable definition of every AI (gs1/gs1-syntax-dictionary, Apache-2.0),
vendored unmodified as returntrace/data/gs1-syntax-dictionary.txt; its release, source commit and sha256 are
in standards/gs1/README.md. Its header documents the format; one entry is

    AIs  [Flags]  Specification  [Attributes...]  [# Title]

    3100-3105  *?  N6                   req=01,02 ex=310n   # NET WEIGHT (kg)
    8006        ?  N14,csum,gcppos2 N4,pieceoftotal ...     # ITIP

An AI range (`3100-3105`, `91-99`) stands for each AI in it. Flag `*` marks a predefined-length AI, which needs
no FNC1 separator in a barcode. The specification is a list of components, each a character set (`N` digits,
`X` GS1 character set 82, `Y` set 39, `Z` set 64, base64url) with a fixed (`N6`) or variable (`X..20`, 1-20)
length, optional when in brackets (`[N6]`), followed by the names of the GS1 linters that validate it
(`csum` the check digit, `yymmd0` a date whose day may be 00, ...). Attributes (`req=`, `ex=`, `dlpkey`) and
titles are read past, not used.

This module only reads the table; returntrace/barcode.py enforces it. Of the linters it enforces `csum`,
`yymmd0`, `yymmdd` and `yyyymmdd` (barcode.ENFORCED_LINTERS); every other linter (`gcppos1`, `gcppos2`,
`iso3166`, `iso4217`, `hhmi`, `pieceoftotal`, `pcenc`, `csumalpha`, ...) is not enforced.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .gs1 import CSET82

DICTIONARY_FILE = Path(__file__).resolve().parent / "data" / "gs1-syntax-dictionary.txt"

# The characters each component type allows (GS1 General Specifications 7.11).
CSET39 = frozenset("#-/" + string.digits + string.ascii_uppercase)
CSET64 = frozenset(string.ascii_letters + string.digits + "-_=")  # base64url; `=` is padding
CHARSETS: dict[str, frozenset[str]] = {"N": frozenset(string.digits), "X": CSET82, "Y": CSET39, "Z": CSET64}

# `[N3],iso3166`: optional bracket, type, `length` or `..max`, the bracket closed, then the linters.
COMPONENT = re.compile(r"(\[)?([NXYZ])(\.\.)?(\d+)(\])?((?:,\w+)*)")
FLAG_CHARACTERS = frozenset("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")  # the header's "Allocated from"
RELEASE = re.compile(r"^# Release: (\S+)", re.MULTILINE)


class DictionaryError(ValueError):
    """A line of the dictionary that does not follow the format its header documents."""


@dataclass(frozen=True, slots=True)
class Component:
    """One part of an AI's value: its character set, its length and the linters that check it."""

    charset: str  # "N", "X", "Y" or "Z"
    min_length: int
    max_length: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AISpec:
    """One AI as GS1's dictionary defines it."""

    ai: str
    predefined: bool  # flag `*`: a predefined length, no FNC1 separator after it
    components: tuple[Component, ...]
    specification: str  # as written, e.g. "N14,csum,gcppos2 N4,pieceoftotal"
    title: str
    # Read off the components once: the reader asks for them per scanned value.
    min_length: int  # the mandatory components' least
    max_length: int
    fixed_length: int | None  # the value's one length, or None when it may vary

    @classmethod
    def of(cls, ai: str, predefined: bool, components: tuple[Component, ...], specification: str, title: str) -> AISpec:
        """An AI's entry, with the lengths its components allow."""
        least = sum(c.min_length for c in components if not c.optional)
        most = sum(c.max_length for c in components)
        return cls(ai, predefined, components, specification, title, least, most, most if least == most else None)


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The whole dictionary: its release and every AI it defines."""

    release: str
    ais: dict[str, AISpec]

    def select(self, patterns: tuple[str, ...]) -> dict[str, AISpec]:
        """The AIs matching any of the patterns, in GS1's notation: `n` stands for any digit (`41n`, `31nn`).

        A pattern matching no AI is an error: it names something GS1 does not define.
        """
        chosen: dict[str, AISpec] = {}
        for pattern in patterns:
            found = {ai: spec for ai, spec in self.ais.items() if _matches(ai, pattern)}
            if not found:
                raise DictionaryError(f"no AI in GS1's dictionary matches {pattern!r}")
            chosen.update(found)
        return chosen


def _matches(ai: str, pattern: str) -> bool:
    return len(ai) == len(pattern) and all(p in ("n", a) for a, p in zip(ai, pattern, strict=True))


def _component(token: str) -> Component | None:
    m = COMPONENT.fullmatch(token)
    if m is None:
        return None
    opening, charset, variable, length, closing, linters = m.groups()
    if bool(opening) != bool(closing):
        raise DictionaryError(f"unbalanced brackets in component {token!r}")
    size = int(length)
    return Component(charset, 1 if variable else size, size, bool(opening), tuple(linters.split(",")[1:]))


def _expand(ais: str) -> list[str]:
    """`3100-3105` -> 3100, 3101, ..., 3105; a solitary AI -> itself."""
    first, _, last = ais.partition("-")
    if not last:
        return [first]
    if len(first) != len(last) or not (first.isdigit() and last.isdigit()) or first > last:
        raise DictionaryError(f"bad AI range {ais!r}")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def parse_line(line: str) -> list[AISpec]:
    """One entry, for each AI it names; DictionaryError if it does not follow the format."""
    body, _, title = line.partition("#")
    tokens = body.split()
    if len(tokens) < 2 or not all(part.isdigit() for part in tokens[0].split("-")):
        raise DictionaryError(f"not an entry: {line!r}")
    rest, flags = tokens[1:], ""
    if _component(rest[0]) is None and set(rest[0]) <= FLAG_CHARACTERS:
        flags, rest = rest[0], rest[1:]
    components: list[Component] = []
    for token in rest:
        component = _component(token)
        if component is None:
            break  # the attributes start
        components.append(component)
    if not components:
        raise DictionaryError(f"no specification in {line!r}")
    predefined = "*" in flags
    if predefined and any(c.optional or c.min_length != c.max_length for c in components):
        raise DictionaryError(f"a predefined-length AI with a variable length: {line!r}")
    specification = " ".join(rest[: len(components)])
    return [AISpec.of(ai, predefined, tuple(components), specification, title.strip()) for ai in _expand(tokens[0])]


def parse(text: str) -> Dictionary:
    """The dictionary's text read into a Dictionary; comments and blank lines are skipped."""
    release = RELEASE.search(text)
    ais: dict[str, AISpec] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        for spec in parse_line(line):
            if spec.ai in ais:
                raise DictionaryError(f"AI ({spec.ai}) defined twice")
            ais[spec.ai] = spec
    return Dictionary(release.group(1) if release else "unknown", ais)


@cache
def dictionary() -> Dictionary:
    """The vendored dictionary, read once."""
    return parse(DICTIONARY_FILE.read_text(encoding="utf-8"))
