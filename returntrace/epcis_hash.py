"""The CBV 2.0 canonical event hash ("EPCIS Event Hash ID") of the EPCIS events ReturnTrace exports.

CBV 2.0 defines a pre-hash string for an event, independent of its serialisation, and names the
event by the hash of it: `ni:///sha-256;{hex}?ver=CBV2.0` (RFC 6920). This computes it for the JSON
events `api/read/epcis.py` builds; `tests/api/test_epcis_hash.py` checks every exported event against
GS1's exemplary implementation (PyPI `epcis-event-hash-generator`), which is the reference.

The pre-hash string is, concatenated without separators:

1. `eventType=` and the event's type;
2. the standard fields in the canonical property order, each `name=value`, list fields as the list's
   name followed by its sorted elements (`epcList` `epc=…`), `readPoint`/`bizLocation` as `readPointid=…`,
   a `bizTransactionList` as its name followed by its sorted entries `bizTransaction=…type=…`;
   timestamps in UTC with milliseconds; CBV words in bare notation expanded to their Web URIs;
3. the user extension fields, each `{namespace}localName=value` (nested objects: the name followed by
   their own sorted fields), sorted.

`eventID`, `recordTime`, `errorDeclaration` and `rt:eventHash` (the hash itself) are not part of it.
Values are canonical as the algorithm asks: integers without leading zeros or a sign, URIs as given
(our Digital Link URIs are canonical already). The export uses only what this module can state
exactly: no booleans and no fractions in hashed fields, and every business transaction typed (GS1's
implementation stops with an IndexError on an untyped one, which EPCIS 2.0 allows).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

CBV = "https://ref.gs1.org/cbv/"
VERSION = "CBV2.0"
HASH_FIELD = "rt:eventHash"
NOT_HASHED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context", HASH_FIELD})

# The canonical property order of the standard fields this module knows (as GS1's implementation
# orders them), with how a value is expanded: CBV vocabulary prefix for bare words, or None.
_ORDER: tuple[tuple[str, str | None], ...] = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("parentID", None),
    ("epcList", None),
    ("childEPCs", None),
    ("action", None),
    ("bizStep", "BizStep-"),
    ("disposition", "Disp-"),
    ("readPoint", None),
    ("bizLocation", None),
    ("bizTransactionList", "BTT-"),
)
_STANDARD = frozenset(name for name, _ in _ORDER)
_INTEGER = re.compile(r"[+-]?\d+")
_BARE_WORD = re.compile(r"[a-z][a-z_]*")


class UnhashableEvent(ValueError):
    """The event holds a field or value this module does not state exactly."""


def event_hash(event: dict[str, Any], namespaces: dict[str, str]) -> str:
    """The CBV 2.0 event hash of `event`; `namespaces` maps the document's context prefixes to their
    IRIs (`{"rt": "urn:returntrace:epcis:"}`)."""
    digest = hashlib.sha256(pre_hash(event, namespaces).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={VERSION}"


def pre_hash(event: dict[str, Any], namespaces: dict[str, str]) -> str:
    out = [f"eventType={event['type']}"]
    for name, vocab in _ORDER:
        if name not in event:
            continue
        value = event[name]
        if name == "eventTime":
            out.append(f"eventTime={_time(value)}")
        elif name in ("epcList", "childEPCs"):
            out.append(name + "".join(sorted(f"epc={_value(v)}" for v in value)))
        elif name in ("readPoint", "bizLocation"):
            out.append(f"{name}id={_value(value['id'])}")
        elif name == "bizTransactionList":
            entries = []
            for bt in value:
                if "type" not in bt:
                    raise UnhashableEvent("an untyped business transaction")
                entries.append(f"bizTransaction={_value(bt['bizTransaction'])}type={_vocab(bt['type'], vocab)}")
            out.append(name + "".join(sorted(entries)))
        else:
            out.append(f"{name}={_vocab(value, vocab) if vocab else _value(value)}")
    extensions = []
    for key, value in event.items():
        if key in NOT_HASHED or key in _STANDARD:
            continue
        if ":" not in key:
            raise UnhashableEvent(f"field {key!r} is neither a known standard field nor a namespaced extension")
        extensions.extend(_extension(_expand(key, namespaces), value, namespaces))
    return "".join(out) + "".join(sorted(extensions))


def _extension(name: str, value: Any, namespaces: dict[str, str]) -> list[str]:
    """A user extension field as pre-hash strings: one per list element."""
    if isinstance(value, list):
        return [s for v in value for s in _extension(name, v, namespaces)]
    if isinstance(value, dict):
        children = [s for k, v in value.items() for s in _extension(_expand(k, namespaces), v, namespaces)]
        return [name + "".join(sorted(children))]
    return [f"{name}={_value(value)}"]


def _expand(key: str, namespaces: dict[str, str]) -> str:
    prefix, _, local = key.partition(":")
    if prefix not in namespaces:
        raise UnhashableEvent(f"extension {key!r} uses a prefix the document's context does not declare")
    return "{" + namespaces[prefix] + "}" + local


def _vocab(value: str, prefix: str | None) -> str:
    """A CBV word in bare notation ("shipping") as its Web URI; URIs (extensions) as they are."""
    if prefix and _BARE_WORD.fullmatch(value):
        return CBV + prefix + value
    return _value(value)


def _value(value: Any) -> str:
    if isinstance(value, (bool, float)):
        raise UnhashableEvent(f"{value!r}: booleans and fractions are not stated exactly in a pre-hash string")
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if _INTEGER.fullmatch(text):
        return str(int(text))
    try:
        float(text)
    except ValueError:
        return text
    raise UnhashableEvent(f"{text!r} reads as a number but not as an integer")


def _time(value: str) -> str:
    t = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
