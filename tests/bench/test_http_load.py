"""bench/http_load.py over several servers (an API and its read replicas): the connections are
spread over them, and every outcome comes back in the order of its request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.http_load import run_load
from tests.loopback_http import JsonHandler, serving


class _Echo(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        query = parse_qs(urlsplit(self.path).query)
        self.answer_json({"i": int(query["i"][0]), "port": self.server.server_address[1]})


@pytest.fixture
def two_servers() -> Iterator[list[str]]:
    with serving(_Echo, count=2) as urls:
        yield urls


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
