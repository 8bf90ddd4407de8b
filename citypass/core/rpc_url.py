"""Ledger node URLs that carry a JSON-RPC access token in their path (`http://node:8545/t/TOKEN`,
how services and wallets without headers send one; docs/ledger-node.md). The token is a
credential: it never goes into a log line, an error message or a URL handed to a wallet."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

TOKEN_PREFIX = "/t/"
_TOKEN_IN_TEXT = re.compile(r"/t/[A-Za-z0-9_\-.]+")
HIDDEN = "/t/<token>"


def with_token(base_url: str, token: str) -> str:
    """The JSON-RPC URL carrying `token` (none: the keyless URL itself)."""
    return f"{base_url.rstrip('/')}{TOKEN_PREFIX}{token}" if token else base_url


def without_token(url: str) -> str:
    """The URL a wallet gets: the same node, no token."""
    parts = urlsplit(url)
    path = parts.path.split(TOKEN_PREFIX, 1)[0] if TOKEN_PREFIX in parts.path else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def redacted(text: str) -> str:
    """`text` (a URL, or a message quoting one) with every path token hidden."""
    return _TOKEN_IN_TEXT.sub(HIDDEN, text)
