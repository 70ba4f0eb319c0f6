"""ReturnTrace client library: GS1 identifiers, EIP-712 messages, hash chains, vocabularies and the
escrow's typed model (returntrace.escrow).

Shared by the brownie scripts, the tests, the benchmarks and the gateway, so that each of
these computations exists once.
"""
