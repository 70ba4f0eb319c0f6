"""The read side: the indexer folds the contracts' logs into the index database; the views,
proofs, audit report, EPCIS export and settlements answer from it, proved against the chain."""
