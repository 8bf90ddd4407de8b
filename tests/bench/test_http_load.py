"""bench/http_load.py over several servers (an API and its read replicas): the connections are
spread over them, and every outcome comes back in the order of its request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.http_load import run_load


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the load generator expects

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        body = json.dumps({"i": int(query["i"][0]), "port": self.server.server_port}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def two_servers() -> Iterator[list[str]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Echo) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield [f"http://127.0.0.1:{s.server_port}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_connections_are_spread_over_every_server_in_request_order(two_servers):
    requests = [("GET", f"/search?i={i}", None) for i in range(40)]
    result = run_load(two_servers, requests, concurrency=4, own_process=False)
    answers = [json.loads(outcome.body) for outcome in result.outcomes]
    assert [outcome.status for outcome in result.outcomes] == [200] * 40
    assert [answer["i"] for answer in answers] == list(range(40))
    ports = {int(url.rsplit(":", 1)[1]) for url in two_servers}
    assert {answer["port"] for answer in answers} == ports


@pytest.mark.parametrize(
    ("urls", "words"),
    [
        (["http://127.0.0.1:1", "http://127.0.0.1:1"], "each server's base URL once"),
        ([], "each server's base URL once"),
        (["https://127.0.0.1:1"], "only plain http"),
    ],
)
def test_bad_server_lists_are_refused(urls, words):
    with pytest.raises(ValueError, match=words):
        run_load(urls, [("GET", "/", None)], concurrency=1, own_process=False)
