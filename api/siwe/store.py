"""Server-side, in-memory single-use nonces and session tokens (one API process).

Why in memory: sessions are short (SESSION_TTL_SECONDS) and bound to on-chain roles that are
re-checked on every request anyway, so losing them on a restart only means signing in again.
Only a SHA-256 of each session token is kept, so the store itself holds nothing replayable.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

NONCE_BYTES = 12  # 96 bits, rendered as 24 hex digits (EIP-4361 needs >= 8 alphanumerics)
TOKEN_BYTES = 32
# Bounded so a flood of nonce requests cannot grow memory without limit.
MAX_OPEN_NONCES = 100_000


@dataclass(frozen=True)
class StaffSession:
    address: str
    roles: tuple[str, ...]  # role names held at sign-in (re-checked per request)
    issued_at: float
    expires_at: float


class NonceStore:
    """Nonces issued by this API: each valid until its expiry and usable once."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._open: dict[str, float] = {}  # nonce -> expiry
        self._used: dict[str, float] = {}  # nonce -> when its expiry would have been
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, float]:
        nonce = secrets.token_hex(NONCE_BYTES)
        with self._lock:
            self._sweep()
            if len(self._open) >= MAX_OPEN_NONCES:
                # Oldest first: dicts keep insertion order.
                self._open.pop(next(iter(self._open)))
            expires = self._clock() + self._ttl
            self._open[nonce] = expires
        return nonce, expires

    def status(self, nonce: str) -> str:
        """'open', 'used' or 'unknown' (never issued, or expired)."""
        with self._lock:
            now = self._clock()
            if nonce in self._used:
                return "used"
            expires = self._open.get(nonce)
            return "open" if expires is not None and expires > now else "unknown"

    def consume(self, nonce: str) -> bool:
        """Mark used; False when it was not open (used meanwhile by a concurrent sign-in)."""
        with self._lock:
            expires = self._open.pop(nonce, None)
            if expires is None or expires <= self._clock():
                return False
            self._used[nonce] = expires
            return True

    def _sweep(self) -> None:
        now = self._clock()
        for table in (self._open, self._used):
            for nonce in [n for n, expiry in table.items() if expiry <= now]:
                del table[nonce]


class SessionStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sessions: dict[str, StaffSession] = {}
        self._lock = threading.Lock()

    def open(self, address: str, roles: tuple[str, ...], expires_at: float) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = StaffSession(address, roles, self._clock(), expires_at)
        with self._lock:
            self._sweep()
            self._sessions[_digest(token)] = session
        return token

    def get(self, token: str) -> StaffSession | None:
        """The live session of a token; None when unknown. Expired sessions are returned (the
        caller tells 'expired' from 'unknown') and dropped by the next sweep."""
        with self._lock:
            return self._sessions.get(_digest(token))

    def close(self, token: str) -> bool:
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def _sweep(self) -> None:
        # Expired sessions are kept an hour so a late request still hears "expired".
        cutoff = self._clock() - 3600
        for key in [k for k, s in self._sessions.items() if s.expires_at <= cutoff]:
            del self._sessions[key]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
