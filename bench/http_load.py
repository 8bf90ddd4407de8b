"""A light HTTP/1.1 load generator: keep-alive connections on raw asyncio streams, run in a
process of its own so the client's Python does not compete with the server's for one core.

    result = run_load("http://127.0.0.1:8080", [("GET", "/v1/slots/search?lat=...", None),
                                                ("POST", "/v1/relay/forward", {...})],
                      concurrency=64)
    result.outcomes[i]  # Outcome(status, latency_s, body) of requests[i]; status 0 = no answer
    result.wall_s       # from the first request sent to the last answer read

`run_sequences` takes groups of requests that must go in turn on one connection (a wallet's
bookings with nonces 0, 1, ...).

Closed loop: `concurrency` connections, each sending its next request as soon as the previous
answer is read, so the rate and the latencies are measured at the same load. Requests are
taken in order from one shared queue; a connection the server closes is reopened. Answers may
use Content-Length or chunked encoding. No TLS, no redirects, no cookies: a benchmark tool.

Also a command line: `python -m bench.http_load URL PATH [-n N] [-c C]` prints a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# (method, path with query, JSON body or None)
Request = tuple[str, str, Any]
_Raw = tuple[int, float, bytes]  # what the worker process sends back per request


@dataclass(frozen=True)
class Outcome:
    status: int  # 0 when no answer came (timeout, connection refused or reset)
    latency_s: float
    body: bytes


@dataclass(frozen=True)
class LoadResult:
    outcomes: list[Outcome]
    wall_s: float

    @property
    def rate(self) -> float:
        return len(self.outcomes) / self.wall_s if self.wall_s else 0.0

    def latencies(self, status: int | None = 200) -> list[float]:
        return [o.latency_s for o in self.outcomes if status is None or o.status == status]


def run_load(
    base_url: str | Sequence[str],
    requests: Sequence[Request],
    concurrency: int,
    *,
    warmup: Sequence[Request] = (),
    timeout_s: float = 30.0,
    own_process: bool = True,
) -> LoadResult:
    """Send `requests` over `concurrency` keep-alive connections (after `warmup`, over the same
    connections and not measured); outcomes are in the order of `requests`. Several base URLs
    (an API and its read replicas) share the connections round-robin, as a proxy would."""
    return run_sequences(
        base_url, [[r] for r in requests], concurrency, warmup=[[r] for r in warmup],
        timeout_s=timeout_s, own_process=own_process,
    )  # fmt: skip


def run_sequences(
    base_url: str | Sequence[str],
    sequences: Sequence[Sequence[Request]],
    concurrency: int,
    *,
    warmup: Sequence[Sequence[Request]] = (),
    timeout_s: float = 30.0,
    own_process: bool = True,
) -> LoadResult:
    """Like run_load, for requests that must go one after another (a wallet's bookings, each
    with the next nonce): a connection takes the next sequence and sends its requests in turn.
    After an answer that is not 2xx, the rest of its sequence is not sent (status -1).
    Outcomes are in the order of the sequences' requests, flattened."""
    if concurrency < 1:
        raise ValueError(f"concurrency {concurrency} must be at least 1")
    urls = [urlsplit(u) for u in ([base_url] if isinstance(base_url, str) else base_url)]
    for url in urls:
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"{url.geturl()!r}: only plain http://host[:port] URLs are supported")
    if len({url.netloc for url in urls}) != len(urls) or not urls:
        raise ValueError("give each server's base URL once")

    def encoded(groups: Sequence[Sequence[Request]]) -> list[list[bytes]]:
        # The Host header names the first server: the servers are one service behind a proxy.
        return [[_encode(urls[0].netloc, r) for r in group] for group in groups]

    servers = [(str(url.hostname), url.port or 80) for url in urls]
    job = (servers, encoded(warmup), encoded(sequences), concurrency, timeout_s)
    if own_process:
        wall_s, raw = _in_child_process(job)
    else:
        wall_s, raw = asyncio.run(_run(*job))
    return LoadResult([Outcome(*item) for item in raw], wall_s)


def _encode(host: str, request: Request) -> bytes:
    method, path, body = request
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
    if body is None:
        return (head + "\r\n").encode()
    payload = json.dumps(body, separators=(",", ":")).encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    return head.encode() + payload


def _in_child_process(job: tuple) -> tuple[float, list[_Raw]]:
    # Plain tuples both ways (the child runs this file as __main__, so our classes would not
    # unpickle under the same names), and the answer in a file: a pipe came back cut short.
    with tempfile.TemporaryDirectory(prefix="http-load-") as tmp:
        job_path, result_path = Path(tmp) / "job.pickle", Path(tmp) / "result.pickle"
        job_path.write_bytes(pickle.dumps(job))
        child = subprocess.run(
            [sys.executable, __file__, "--worker", str(job_path), str(result_path)],
            capture_output=True, check=False,
        )  # fmt: skip
        if child.returncode != 0 or not result_path.exists():
            raise RuntimeError(f"load worker failed: {child.stderr.decode()[-2000:]}")
        return pickle.loads(result_path.read_bytes())


# ------------------------------------------------------------------------------ worker


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        reused = self.writer is not None
        if not reused:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        assert reader is not None and writer is not None
        writer.write(raw)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not reused or exc.partial:
                raise
            # The server closed the idle keep-alive connection before reading this request
            # (so it did not act on it): send it again on a new one.
            self.close()
            return await self.exchange(raw)
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            body = await self._chunked(reader)
        elif length is not None:
            body = await reader.readexactly(length)
        else:  # neither: the body runs to the end of the connection
            body, close = await reader.read(), True
        if close:
            self.close()
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are expected
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


NOT_SENT: _Raw = (-1, 0.0, b"not sent: an earlier request of its sequence failed")


async def _drive(
    connection: _Connection, queue: list[tuple[int, list[bytes]]], results: list[_Raw],
    timeout_s: float,
) -> None:  # fmt: skip
    while queue:
        first, sequence = queue.pop()
        for offset, raw in enumerate(sequence):
            began = time.perf_counter()
            try:
                async with asyncio.timeout(timeout_s):
                    status, body = await connection.exchange(raw)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()  # a half-read answer leaves the stream unusable
                status, body = 0, f"{type(exc).__name__}: {exc}".encode()
            results[first + offset] = (status, time.perf_counter() - began, body)
            if not 200 <= status < 300:
                break  # the rest stay NOT_SENT


async def _phase(
    connections: list[_Connection], sequences: list[list[bytes]], timeout_s: float
) -> list[_Raw]:
    queue = []
    first = 0
    for sequence in sequences:
        queue.append((first, sequence))
        first += len(sequence)
    queue.reverse()  # pop() from the end = in order
    results = [NOT_SENT] * first
    await asyncio.gather(*(_drive(c, queue, results, timeout_s) for c in connections))
    return results


async def _run(
    servers: list[tuple[str, int]], warmup: list[list[bytes]], sequences: list[list[bytes]],
    concurrency: int, timeout_s: float,
) -> tuple[float, list[_Raw]]:  # fmt: skip
    connections = [_Connection(*servers[i % len(servers)]) for i in range(concurrency)]
    try:
        await _phase(connections, warmup, timeout_s)
        began = time.perf_counter()
        results = await _phase(connections, sequences, timeout_s)
        return time.perf_counter() - began, results
    finally:
        for connection in connections:
            connection.close()


def _worker_main(job_path: Path, result_path: Path) -> None:
    job = pickle.loads(job_path.read_bytes())
    try:
        import uvloop  # the lighter event loop, when installed

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(_run(*job))
    result_path.write_bytes(pickle.dumps(result))


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("path", help="path with query, e.g. /health")
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = run_load(args.url, [("GET", args.path, None)] * args.requests, args.concurrency)
    latencies = sorted(o.latency_s for o in result.outcomes)
    statuses: dict[int, int] = {}
    for outcome in result.outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    summary = {
        "requests": len(result.outcomes), "concurrency": args.concurrency,
        "rps": round(result.rate, 1), "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 2),
        "statuses": statuses,
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker_main(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        _cli()
