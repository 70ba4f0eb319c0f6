"""The chain layer: web3 clients per timeout profile, the deployment's contracts, the reads the
gateway makes of them, revert decoding, and the background worker that waits for the node."""
