"""The command's HTTP to the gateway: JSON in, JSON out, each failure a clear message.

A 4xx answer is the gateway's refusal, `Refused(status, code, detail, body)` (its error body is
`{"error", "detail", ...}`, docs/integrators.md); a gateway that cannot be reached, times out or
answers 5xx is `Unavailable`, a CliError that stops the command (exit 3).
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from ..eip712 import Domain
from .errors import CliError

GATEWAY_ENV = "RETURNTRACE_GATEWAY"
DEFAULT_GATEWAY = "http://127.0.0.1:8000"


class Unavailable(CliError):
    """The gateway did not answer usefully (no connection, timeout, 5xx)."""


class Refused(Exception):
    """The gateway refused a request (4xx): `code` is its error code, `detail` its reason."""

    def __init__(self, status: int, code: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail, self.body = status, code, detail, body


class GatewayClient:
    def __init__(self, url: str | None = None, timeout: float = 30.0) -> None:
        self.url = (url or os.environ.get(GATEWAY_ENV) or DEFAULT_GATEWAY).rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, headers={"Accept": "application/json"})
        self._eip712: dict[str, Any] | None = None

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of a 2xx answer; Refused for a 4xx, Unavailable otherwise."""
        try:
            r = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Unavailable(f"the gateway at {self.url} did not answer {method} {path} in time") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the gateway at {self.url} ({type(exc).__name__}: {exc})") from None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {"value": body}
        if 400 <= r.status_code < 500:
            raise Refused(r.status_code, str(body.get("error", r.status_code)), str(body.get("detail", r.text)), body)
        if r.status_code >= 500:
            why = body.get("detail") or r.text[:200]
            raise Unavailable(f"the gateway at {self.url} answered {r.status_code} to {method} {path}: {why}")
        return r.status_code, body

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", path, params=params or None)[1]

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.request("POST", path, json=body)

    # What a signer needs, as docs/integrators.md describes it.

    def eip712(self) -> dict[str, Any]:
        if self._eip712 is None:
            self._eip712 = self.get("/v1/eip712")
        return self._eip712

    def domain(self, kind: str) -> Domain:
        """The EIP-712 domain the gateway relays `kind` under (GET /v1/eip712)."""
        d = self.eip712()["messages"][kind]["domain"]
        return Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])

    def post_path(self, kind: str) -> str:
        return str(self.eip712()["messages"][kind]["post"])

    def next_nonce(self, kind: str, signer: str) -> int:
        return int(self.get(f"/v1/signers/{signer}/nonce", kind=kind)["nextNonce"])

    def message(self, message_id: str) -> dict[str, Any]:
        return self.get(f"/v1/messages/{message_id}")

    def unit(self, gtin14: str, serial: str) -> dict[str, Any]:
        """The unit's verified view (the Digital Link resolver's JSON)."""
        from urllib.parse import quote

        return self.get(f"/01/{gtin14}/21/{quote(serial, safe='')}")
