"""A refusal (ApiError: an HTTP status, a stable code, a detail), raised by any room and answered in
the gateway's one error shape by api/http/errors.py.

Integers a request names (query and path parameters, cursor positions, order ids) are compared
with the store's columns, and SQLite's INTEGER is signed 64-bit: any integer outside it answers
400 `out_of_range` (`storable`), never an OverflowError."""

from __future__ import annotations

import re
from typing import Any


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra
        self.headers = headers  # response headers the refusal needs (429: Retry-After)


SQL_INT_MIN, SQL_INT_MAX = -(2**63), 2**63 - 1
# ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() refuses.
_INTEGER = re.compile(r"[+-]?[0-9]+")


def fits_store(value: int) -> bool:
    return SQL_INT_MIN <= value <= SQL_INT_MAX


def out_of_range(name: str) -> ApiError:
    return ApiError(
        400,
        "out_of_range",
        f"{name} must be an integer from {SQL_INT_MIN} to {SQL_INT_MAX}, the range the gateway's store holds",
    )


def storable(value: int, name: str) -> int:
    """`value`, if the store can hold it; else 400 out_of_range."""
    if not fits_store(value):
        raise out_of_range(name)
    return value


def _integer(text: str) -> int | None:
    """The integer `text` spells in ASCII decimal, None if none. Past 19 significant digits it is out
    of the store's range whatever it is: one past the bound stands in for it (int() refuses more
    than 4300 digits)."""
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None
    if len(text.lstrip("+-").lstrip("0")) > len(str(SQL_INT_MAX)):
        return SQL_INT_MIN - 1 if text.startswith("-") else SQL_INT_MAX + 1
    return int(text)


def parse_storable(text: str, name: str) -> int | None:
    """The integer `text` spells (None if it spells none), if the store can hold it; else 400 out_of_range."""
    value = _integer(text)
    return None if value is None else storable(value, name)


def beyond_store(error: dict[str, Any]) -> bool:
    """A query or path parameter refused by its declared bounds (or for its length) that is an
    integer the store cannot hold: answered out_of_range like one that passed the bounds."""
    loc, value = error.get("loc", ()), error.get("input")
    if not loc or loc[0] not in ("query", "path"):
        return False
    if isinstance(value, str):
        value = _integer(value.replace("_", ""))  # pydantic reads "1_000" as 1000
    return isinstance(value, int) and not isinstance(value, bool) and not fits_store(value)
