"""The chain layer (api/chain/): one manifest loader, one web3 client per timeout profile, one cache
policy per purpose, reads made at a block reference."""

from __future__ import annotations

import json

import pytest
from eth_utils import to_checksum_address

from api.chain.blocks import LATEST, at
from api.chain.cache import Expiring, PerBlock, Permanent
from returntrace.eip712 import Domain
from returntrace.manifest import SCHEMA, Entry, Manifest, ManifestError

ADDRESS = to_checksum_address("0x" + "1a" * 20)


def test_a_manifest_round_trips_through_the_loader(tmp_path):
    domain = Domain("ReturnTrace TraceRegistry", "2", 31337, ADDRESS)
    m = Manifest(
        schema=SCHEMA,
        chain_id=31337,
        deployment_block=7,
        contracts={"TraceRegistry": Entry(ADDRESS, [{"type": "event"}], domain)},
        network="development",
    )
    path = m.write(tmp_path / "m.json")
    loaded = Manifest.load(path)
    assert (loaded.schema, loaded.chain_id, loaded.deployment_block, loaded.network) == (
        SCHEMA,
        31337,
        7,
        "development",
    )
    assert loaded.entry("TraceRegistry") == Entry(ADDRESS, [{"type": "event"}], domain)
    assert json.loads(path.read_text())["contracts"]["TraceRegistry"]["eip712"] == domain.as_json()


def test_the_loader_says_what_is_wrong(tmp_path):
    with pytest.raises(ManifestError, match="cannot read deployment manifest"):
        Manifest.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schemaVersion": 2, "contracts": {}}))
    with pytest.raises(ManifestError, match="chainId"):
        Manifest.load(bad)
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps({"chainId": 1, "deploymentBlock": 0, "contracts": {"ReturnEscrow": {"address": ADDRESS}}}))
    m = Manifest.load(v1)
    assert m.schema == 1  # v1's deploy script wrote no schemaVersion
    with pytest.raises(ManifestError, match="has no ReturnEscrow"):  # an entry without an ABI is as good as absent
        m.entry("ReturnEscrow")


def test_cache_policies_keep_what_their_purpose_allows():
    reads: list[str] = []

    def read(value):
        return lambda: reads.append(value) or value

    forever = Permanent()
    assert forever.get("unit", read(None), keep=lambda v: v is not None) is None
    assert forever.get("unit", read("created"), keep=lambda v: v is not None) == "created"
    assert forever.get("unit", read("again")) == "created" and reads == [None, "created"]  # not read again

    latest = Expiring(ttl=0)
    latest.get("roles", read(1))
    latest.get("roles", read(2))
    assert reads[-2:] == [1, 2]  # past its TTL: read again
    latest.ttl = 60
    assert latest.get("roles", read(3)) == 2 and reads[-1] == 2  # within its TTL: not read

    pinned = PerBlock(size=2)
    a, b = at(10, "0xaa"), at(10, "0xbb")  # one number, two blocks (a reorganisation)
    assert pinned.get(("record", a), read("A")) == "A" and pinned.get(("record", b), read("B")) == "B"
    assert pinned.get(("record", a), read("A2")) == "A"
    pinned.get(("record", at(11, "0xcc")), read("C"))  # past its size: the least recently used (b) goes
    assert pinned.get(("record", b), read("B2")) == "B2"


def test_a_block_reference_is_what_web3_takes():
    assert LATEST.identifier == "latest" and LATEST.is_latest and at(None) is LATEST
    assert at(12, "0x01").identifier == 12 and not at(12).is_latest


def test_the_gateway_has_one_client_per_timeout_profile_and_one_policy_cache(gateway, gateway_settings):
    s = gateway.services
    request, worker = s.chain.w3, s.relayer.chain.w3
    assert request is not worker
    assert s.reader.chain.w3 is request and s.unit_views.reads.w3 is request and s.pages.w3 is request
    assert s.indexer.chain.w3 is worker and s.relayer.reader.chain.w3 is worker
    assert request.provider.get_request_kwargs()["timeout"] == gateway_settings.rpc_timeout
    assert worker.provider.get_request_kwargs()["timeout"] == gateway_settings.worker_rpc_timeout
    assert s.reader.policies is s.relayer.reader.policies is s.unit_views.reads.policies
