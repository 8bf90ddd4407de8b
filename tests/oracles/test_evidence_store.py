"""The evidence store: sealed at rest, content-addressed, idempotent, tamper-evident; the local
directory backend and the Kubo backend.

There is no Kubo binary on this machine. The Kubo backend is tested against a small REAL HTTP
server on loopback that answers the Kubo RPC calls ipfshttpclient makes (version, add, cat,
pin/add, pin/ls), computing CIDs with our own importer from the add options it is sent. It is
not a real Kubo: it proves the client wiring, option passing and mismatch handling, not Kubo's
own CID computation (the published vectors in test_evidence_cid.py cover that).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path

import pytest
from aiohttp import web

from citypass.core.net import free_port
from citypass.protocol.sensor_events import MAX_EVIDENCE_BYTES, evidence_hash
from oracles.evidence import (
    EvidenceBackendError,
    EvidenceConfig,
    EvidenceConfigError,
    EvidenceError,
    EvidenceIntegrityError,
    EvidenceNotFound,
    cid_for_bytes,
    open_store,
    parse_cid,
)
from oracles.evidence.backends import KuboStore, LocalDirectoryStore
from oracles.evidence.cid import CHUNK_SIZE, CODEC_DAG_PB, CODEC_RAW, import_bytes
from oracles.evidence.sealing import KEY_FILE_ENV
from oracles.evidence.store import IPFS_API_ENV

# A still with a recognisable plaintext pattern, to search the stored bytes for.
IMAGE = b"\xff\xd8\xff\xe0JFIF-sangsalmi-bay-17-" * 400


@pytest.fixture
def store(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as s:
        yield s


def objects(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "evidence" / "objects").rglob("*") if p.is_file()]


def test_put_get_round_trip_gives_what_goes_on_chain(store):
    stored = store.put(IMAGE)
    assert stored.content_hash == hashlib.sha256(IMAGE).digest() == evidence_hash(IMAGE)
    assert stored.size == len(IMAGE)
    assert stored.cid.codec == CODEC_RAW
    assert stored.cid.binary[:4] == bytes([0x01, 0x55, 0x12, 0x20])
    assert len(stored.cid.binary) == 36
    assert store.has(stored.cid)
    assert store.has(stored.cid.text)
    assert store.get(stored.cid) == IMAGE
    assert store.get(stored.cid.binary, expected_hash=stored.content_hash) == IMAGE
    assert store.find(stored.content_hash) == stored
    assert store.counts["stored"] == 1


def test_stored_bytes_are_sealed_and_named_by_their_own_cid(store, tmp_path):
    stored = store.put(IMAGE)
    (path,) = objects(tmp_path)
    sealed = path.read_bytes()
    assert b"sangsalmi" not in sealed
    assert IMAGE[:64] not in sealed
    assert len(sealed) == stored.stored_size > stored.size
    # The CID is that of the stored (encrypted) bytes, so `ipfs add` of the file agrees.
    assert cid_for_bytes(sealed) == stored.cid
    assert path.name == stored.cid.text


def test_put_is_idempotent_and_survives_a_restart(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as first:
        a = first.put(IMAGE)
        b = first.put(IMAGE)
        assert a == b
        assert first.counts["deduplicated"] == 1
    with open_store(EvidenceConfig(tmp_path)) as second:
        assert second.put(IMAGE) == a
        assert second.get(a.cid) == IMAGE
    assert len(objects(tmp_path)) == 1


def test_put_restores_an_object_that_went_missing(store, tmp_path):
    stored = store.put(IMAGE)
    objects(tmp_path)[0].unlink()
    assert not store.has(stored.cid)
    again = store.put(IMAGE)
    assert store.get(again.cid) == IMAGE
    assert store.find(stored.content_hash) == again


def test_wrong_key_is_reported_as_such(tmp_path):
    with open_store(EvidenceConfig(tmp_path)) as s:
        stored = s.put(IMAGE)
    other_key = tmp_path / "other.key"
    with open_store(EvidenceConfig(tmp_path, key_file=other_key)) as other:
        with pytest.raises(EvidenceIntegrityError, match="another key") as err:
            other.get(stored.cid)
        assert err.value.reason == "wrong_key"
        assert other.counts["wrong_key"] == 1


def test_tampered_file_is_detected(store, tmp_path):
    stored = store.put(IMAGE)
    (path,) = objects(tmp_path)
    sealed = bytearray(path.read_bytes())
    sealed[100] ^= 0x01
    path.write_bytes(bytes(sealed))
    with pytest.raises(EvidenceIntegrityError, match="altered") as err:
        store.get(stored.cid)
    assert err.value.reason == "tampered"


def test_tampered_object_under_its_own_cid_fails_the_gcm_tag(store):
    stored = store.put(IMAGE)
    sealed = bytearray(store.backend.get(stored.cid))
    sealed[-20] ^= 0x80  # a ciphertext byte; re-stored under the CID of the altered bytes
    forged = store.backend.put(bytes(sealed))
    with pytest.raises(EvidenceIntegrityError, match="AES-GCM tag") as err:
        store.get(forged)
    assert err.value.reason == "tampered"


def test_get_checks_the_expected_content_hash(store):
    stored = store.put(IMAGE)
    with pytest.raises(EvidenceIntegrityError, match="not the evidence anchored"):
        store.get(stored.cid, expected_hash=hashlib.sha256(b"other").digest())


def test_missing_and_malformed_cids_are_clear_errors(store):
    with pytest.raises(EvidenceNotFound, match="no evidence"):
        store.get(cid_for_bytes(b"never stored"))
    with pytest.raises(EvidenceError, match="multibase base32"):
        store.get("not-a-cid")


def test_oversized_evidence_is_refused_and_counted(store):
    with pytest.raises(EvidenceError, match="larger than") as err:
        store.put(b"\x00" * (MAX_EVIDENCE_BYTES + 1))
    assert err.value.reason == "oversized"
    assert store.counts["oversized"] == 1


def test_chunked_evidence_round_trips_with_a_stable_cid(tmp_path):
    clip = os.urandom(CHUNK_SIZE * 2 + 12345)
    with open_store(EvidenceConfig(tmp_path)) as s:
        stored = s.put(clip)
        assert stored.cid.codec == CODEC_DAG_PB
        assert stored.cid.text.startswith("bafybei")
        (path,) = objects(tmp_path)
        sealed = path.read_bytes()
        assert import_bytes(sealed).root == stored.cid == cid_for_bytes(sealed)
        assert len(import_bytes(sealed).blocks) == 4  # three raw leaves and the root
    with open_store(EvidenceConfig(tmp_path)) as again:
        assert again.get(stored.cid) == clip
        assert again.put(clip).cid == stored.cid


def test_key_file_is_created_0600_and_never_overwritten(tmp_path):
    key_path = tmp_path / "evidence.key"
    with open_store(EvidenceConfig(tmp_path)) as s:
        stored = s.put(IMAGE)
    assert key_path.stat().st_mode & 0o777 == 0o600
    key = key_path.read_bytes()
    assert len(key) == 32
    with open_store(EvidenceConfig(tmp_path)) as s:
        assert s.get(stored.cid) == IMAGE
    assert key_path.read_bytes() == key


def test_unsafe_or_corrupt_key_files_are_refused(tmp_path):
    loose = tmp_path / "loose.key"
    loose.write_bytes(os.urandom(32))
    loose.chmod(0o644)
    with pytest.raises(EvidenceConfigError, match="chmod 600"):
        open_store(EvidenceConfig(tmp_path, key_file=loose))
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 31)
    short.chmod(0o600)
    with pytest.raises(EvidenceConfigError, match="exactly 32 bytes"):
        open_store(EvidenceConfig(tmp_path, key_file=short))
    assert short.read_bytes() == b"x" * 31


def test_config_from_env_uses_the_key_file_variable(tmp_path, monkeypatch):
    key_path = tmp_path / "keys" / "operator.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_path))
    monkeypatch.delenv(IPFS_API_ENV, raising=False)
    config = EvidenceConfig.from_env(tmp_path / "data")
    with open_store(config) as s:
        assert isinstance(s.backend, LocalDirectoryStore)
        s.put(IMAGE)
    assert key_path.is_file()
    assert not (tmp_path / "data" / "evidence.key").exists()


# --- Kubo backend against a loopback server speaking the Kubo RPC -------------------------


class FakeKubo:
    """Answers the Kubo RPC calls ipfshttpclient 0.7 makes, computing CIDs from the options
    sent (cid-version, raw-leaves, chunker), as Kubo does. `ignore_chunker` mimics a node whose
    add options differ from ours; `corrupt_cat` one that serves altered bytes."""

    def __init__(self, version: str = "0.39.0") -> None:
        self.version = version
        self.content: dict[str, bytes] = {}
        self.pins: set[str] = set()
        self.add_queries: list[dict[str, str]] = []
        self.ignore_chunker = False
        self.corrupt_cat = False
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def api(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.port}/http"

    def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/v0/version", self.handle_version)
        app.router.add_post("/api/v0/add", self.handle_add)
        app.router.add_post("/api/v0/cat", self.handle_cat)
        app.router.add_post("/api/v0/pin/add", self.handle_pin_add)
        app.router.add_post("/api/v0/pin/ls", self.handle_pin_ls)
        self.runner = web.AppRunner(app)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @staticmethod
    def error(message: str) -> web.Response:
        return web.json_response({"Message": message, "Code": 0, "Type": "error"}, status=500)

    async def handle_version(self, request: web.Request) -> web.Response:
        return web.json_response({"Version": self.version, "Commit": "", "Repo": "16"})

    async def handle_add(self, request: web.Request) -> web.Response:
        self.add_queries.append(dict(request.query))
        reader = await request.multipart()
        part = await reader.next()
        data = await part.read()
        chunker = request.query.get("chunker", "size-262144")
        if self.ignore_chunker:
            chunker = "size-262144"
        chunk = int(chunker.removeprefix("size-"))
        raw = go_bool(request.query.get("raw-leaves"), False)
        if request.query.get("cid-version") != "1":
            return self.error("this fake only speaks CIDv1")
        dag = import_bytes(data, chunk_size=chunk, raw_leaves=raw)
        cid = dag.root.text
        self.content[cid] = data
        if go_bool(request.query.get("pin"), True):
            self.pins.add(cid)
        return web.json_response({"Name": cid, "Hash": cid, "Size": str(dag.dag_size)})

    async def handle_cat(self, request: web.Request) -> web.Response:
        cid = parse_cid(request.query["arg"]).text
        if cid not in self.content:
            return self.error(f"block was not found locally (offline): {cid}")
        data = self.content[cid]
        if self.corrupt_cat:
            data = data[:-1] + bytes([data[-1] ^ 1])
        return web.Response(body=data, content_type="text/plain")

    async def handle_pin_add(self, request: web.Request) -> web.Response:
        cid = parse_cid(request.query["arg"]).text
        if cid not in self.content:
            return self.error(f"pin: block was not found locally (offline): {cid}")
        self.pins.add(cid)
        return web.json_response({"Pins": [cid]})

    async def handle_pin_ls(self, request: web.Request) -> web.Response:
        cid = parse_cid(request.query["arg"]).text
        if cid not in self.pins:
            return self.error(f"path '{cid}' is not pinned")
        return web.json_response({"Keys": {cid: {"Type": "recursive"}}})


def go_bool(text: str | None, default: bool) -> bool:
    """Kubo parses option values with Go's strconv.ParseBool; ipfshttpclient sends "True"."""
    if text is None:
        return default
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"invalid boolean {text!r}")


@pytest.fixture
def kubo():
    node = FakeKubo()
    node.start()
    yield node
    node.stop()


def test_kubo_backend_is_chosen_by_env_and_round_trips(kubo, tmp_path, monkeypatch):
    monkeypatch.setenv(IPFS_API_ENV, kubo.api)
    with open_store(EvidenceConfig.from_env(tmp_path)) as s:
        assert isinstance(s.backend, KuboStore)
        assert s.backend.version == "0.39.0"  # past ipfshttpclient's own 0.8.0 ceiling
        stored = s.put(IMAGE)
        assert stored.cid.text in kubo.pins
        assert b"sangsalmi" not in kubo.content[stored.cid.text]
        assert s.has(stored.cid)
        assert s.get(stored.cid) == IMAGE
        assert s.put(IMAGE) == stored
        assert not s.has(cid_for_bytes(b"absent"))
        with pytest.raises(EvidenceNotFound, match="not pinned"):
            s.get(cid_for_bytes(b"absent"))
    assert kubo.add_queries[0]["cid-version"] == "1"
    assert go_bool(kubo.add_queries[0]["raw-leaves"], False)
    assert go_bool(kubo.add_queries[0]["pin"], False)
    assert kubo.add_queries[0]["chunker"] == f"size-{CHUNK_SIZE}"
    assert not (tmp_path / "evidence" / "objects").exists()


def test_kubo_chunked_evidence_agrees_with_our_cid(kubo, tmp_path):
    clip = os.urandom(CHUNK_SIZE + 5000)
    with open_store(EvidenceConfig(tmp_path, ipfs_api=kubo.api)) as s:
        stored = s.put(clip)
        assert stored.cid.codec == CODEC_DAG_PB
        assert s.get(stored.cid) == clip


def test_kubo_with_other_add_options_fails_loudly(kubo, tmp_path):
    kubo.ignore_chunker = True
    with open_store(EvidenceConfig(tmp_path, ipfs_api=kubo.api)) as s:
        clip = os.urandom(CHUNK_SIZE + 5000)
        with pytest.raises(EvidenceBackendError, match="add options differ") as err:
            s.put(clip)
        assert err.value.reason == "cid_mismatch"
        assert s.counts["cid_mismatch"] == 1
        assert s.find(hashlib.sha256(clip).digest()) is None  # nothing recorded as stored


def test_kubo_serving_altered_bytes_is_detected(kubo, tmp_path):
    with open_store(EvidenceConfig(tmp_path, ipfs_api=kubo.api)) as s:
        stored = s.put(IMAGE)
        kubo.corrupt_cat = True
        with pytest.raises(EvidenceIntegrityError, match="do not hash to"):
            s.get(stored.cid)


def test_kubo_too_old_or_unreachable_is_a_clear_error(tmp_path):
    old = FakeKubo(version="0.4.23")
    old.start()
    try:
        with pytest.raises(EvidenceBackendError, match="too old"):
            open_store(EvidenceConfig(tmp_path, ipfs_api=old.api))
    finally:
        old.stop()
    with pytest.raises(EvidenceBackendError, match="unset CITYPASS_IPFS_API"):
        open_store(EvidenceConfig(tmp_path, ipfs_api=f"/ip4/127.0.0.1/tcp/{free_port()}/http"))
    with pytest.raises(EvidenceConfigError, match="multiaddr"):
        open_store(EvidenceConfig(tmp_path, ipfs_api="localhost:5001"))
