"""ReturnTrace gateway: signed-message intake, relayer, indexer, consumer pages and auditor queries."""
