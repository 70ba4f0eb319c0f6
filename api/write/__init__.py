"""The write side: a signed message checked (intake), queued (api.store.outbox), relayed as a
transaction (relayer), and the gateway's own follow-ups (refund on receipt)."""
