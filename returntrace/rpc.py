"""A web3 client per timeout profile, for the gateway (api/chain/client.py keeps its profiles) and
the auditor (AUDITOR_RPC, returntrace/audit.py)."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3


@dataclass(frozen=True)
class RpcProfile:
    """How long a web3 client waits for the chain node. `timeout` bounds the connection and each
    read of an answer (requests' timeout); web3's exception retries are off. A frozen node
    (connections accepted, nothing answered, as a stalled or overloaded node behaves) costs a call
    at most `timeout` seconds, where web3's defaults (a 10 s timeout and 5 attempts with back-off)
    cost ~52 s. Whoever wants another attempt makes it: the workers' rounds back off and retry,
    a client retries a 503."""

    timeout: float

    def web3(self, rpc_url: str) -> Web3:
        w3 = Web3(
            Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": self.timeout}, exception_retry_configuration=None)
        )
        # web3's validation middleware asks the node for its chain id before every eth_call and gas
        # estimate, to check a `chainId` field the gateway never sets: a second round trip per read.
        w3.middleware_onion.remove("validation")
        return w3


# The auditor: whole-history log ranges from a possibly remote node (`returntrace audit --timeout`).
AUDITOR_RPC = RpcProfile(timeout=30.0)
