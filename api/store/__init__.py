"""The gateway's own storage: the outbox (accepted messages and their transactions), the index
database (derived from logs) and the evidence store (files by CID)."""
