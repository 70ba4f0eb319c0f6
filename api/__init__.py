"""ReturnTrace gateway: signed-message intake, relayer, indexer, consumer pages and auditor queries."""

import os

# eth-hash's C backend (safe-pysha3, requirements.txt) hashes ~5x faster than its default
# (pycryptodome), and the gateway hashes several times per event: EIP-712 at intake, the indexer's
# hash chains, checksummed addresses. Set before anything hashes: eth-hash chooses once.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
