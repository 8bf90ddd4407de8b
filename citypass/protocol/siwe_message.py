"""A strict EIP-4361 message parser (the ABNF is short, so no third-party parser), and the
message a client signs to sign in to the API (`sign_in_message`: the operators' scripts and the
oracle daemon, which reads lessees' vehicle tags as ORACLE).

Why our own: the `siwe` package pulls `abnf` and reports failures as one generic error; here
every field that is wrong is named in the error so a wallet developer knows what to fix. The
layout is exactly the ABNF's, in order, LF line ends:

    [scheme "://"] domain " wants you to sign in with your Ethereum account:"
    address                      (EIP-55 checksummed)
    (empty line)
    [statement, then an empty line]   (absent statement: one more empty line instead)
    URI: uri
    Version: 1
    Chain ID: n
    Nonce: at least 8 alphanumerics
    Issued At: RFC 3339 date-time
    [Expiration Time: ...] [Not Before: ...] [Request ID: ...]
    [Resources: then "- uri" lines]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from eth_utils import is_checksum_address

HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*$")
# authority = [userinfo "@"] host [":" port]; no whitespace, no slash.
_DOMAIN = re.compile(r"^[^\s/?#]+$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[a-zA-Z0-9]{8,}$")
_CHAIN_ID = re.compile(r"^[1-9][0-9]*$")
# RFC 3339 date-time (section 5.6): full-date "T" full-time, with a mandatory offset.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
OPTIONAL_FIELDS = ("Expiration Time", "Not Before", "Request ID")


class MalformedMessage(ValueError):
    """The text is not an EIP-4361 message; `part` names the field that is wrong."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(f"{part}: {problem}")
        self.part = part
        self.problem = problem


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: datetime
    scheme: str | None = None
    statement: str | None = None
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default=())


def parse_message(text: str) -> SiweMessage:
    """The message's fields, or MalformedMessage naming the first wrong part."""
    if "\r" in text:
        raise MalformedMessage("message", "lines must end with LF only (no CR)")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # one trailing LF is tolerated
    reader = _Lines(lines)
    scheme, domain = _header(reader.take("header"))
    address = reader.take("address")
    if not _ADDRESS.match(address):
        raise MalformedMessage("address", "must be a 0x address of 40 hex digits on line 2")
    if not is_checksum_address(address):
        raise MalformedMessage("address", "must be EIP-55 checksummed (mixed case)")
    if reader.take("empty line after the address") != "":
        raise MalformedMessage("message", "line 3 must be empty")
    statement = None
    line = reader.take("statement or empty line")
    if line != "":
        statement = line
        if reader.take("empty line after the statement") != "":
            raise MalformedMessage("statement", "must be one line followed by an empty line")
    uri = reader.tagged("URI")
    if not _URI.match(uri):
        raise MalformedMessage("URI", "must be an absolute RFC 3986 URI, e.g. https://host/login")
    version = reader.tagged("Version")
    if version != "1":
        raise MalformedMessage("Version", f"must be 1, not {version!r}")
    chain_text = reader.tagged("Chain ID")
    if not _CHAIN_ID.match(chain_text):
        raise MalformedMessage("Chain ID", "must be a positive decimal integer")
    nonce = reader.tagged("Nonce")
    if not _NONCE.match(nonce):
        raise MalformedMessage("Nonce", "must be at least 8 letters or digits")
    issued_at = _datetime("Issued At", reader.tagged("Issued At"))
    optional: dict[str, str] = {}
    for name in OPTIONAL_FIELDS:
        if reader.peek_tag(name):
            optional[name] = reader.tagged(name)
    resources: list[str] = []
    if reader.peek() == "Resources:":
        reader.take("Resources")
        while reader.peek() is not None and reader.peek().startswith("- "):  # type: ignore[union-attr]
            resource = reader.take("resource")[2:]
            if not _URI.match(resource):
                raise MalformedMessage("Resources", f"{resource!r} is not an absolute URI")
            resources.append(resource)
    if reader.peek() is not None:
        raise MalformedMessage(
            "message",
            f"unexpected line {reader.peek()!r}: fields must come in the EIP-4361 order "
            "(URI, Version, Chain ID, Nonce, Issued At, Expiration Time, Not Before, "
            "Request ID, Resources)",
        )
    expiration = optional.get("Expiration Time")
    not_before = optional.get("Not Before")
    return SiweMessage(
        domain=domain, address=address, uri=uri, version=version, chain_id=int(chain_text),
        nonce=nonce, issued_at=issued_at, scheme=scheme, statement=statement,
        expiration_time=_datetime("Expiration Time", expiration) if expiration else None,
        not_before=_datetime("Not Before", not_before) if not_before else None,
        request_id=optional.get("Request ID"), resources=tuple(resources),
    )  # fmt: skip


def uri_authority(uri: str) -> str:
    """host[:port] of a URI (what a login URI is compared with the domain by)."""
    return urlsplit(uri).netloc


def _header(line: str) -> tuple[str | None, str]:
    if not line.endswith(HEADER_SUFFIX):
        raise MalformedMessage("header", f"line 1 must be '<domain>{HEADER_SUFFIX}'")
    prefix = line[: -len(HEADER_SUFFIX)]
    scheme = None
    if "://" in prefix:
        scheme, prefix = prefix.split("://", 1)
        if not _SCHEME.match(scheme):
            raise MalformedMessage("header", f"{scheme!r} is not a URI scheme")
    if not prefix or not _DOMAIN.match(prefix):
        raise MalformedMessage("domain", "must be an RFC 3986 authority such as api.example:443")
    return scheme, prefix


def _datetime(name: str, text: str) -> datetime:
    if not _DATETIME.match(text):
        raise MalformedMessage(name, "must be an RFC 3339 date-time such as 2026-05-01T09:00:00Z")
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise MalformedMessage(name, f"{text!r} is not a real date and time") from exc


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._at = 0

    def peek(self) -> str | None:
        return self._lines[self._at] if self._at < len(self._lines) else None

    def take(self, what: str) -> str:
        line = self.peek()
        if line is None:
            raise MalformedMessage(what, "missing (the message ends too early)")
        self._at += 1
        return line

    def peek_tag(self, tag: str) -> bool:
        line = self.peek()
        return line is not None and line.startswith(tag + ": ")

    def tagged(self, tag: str) -> str:
        if not self.peek_tag(tag):
            found = self.peek()
            raise MalformedMessage(
                tag, f"expected a '{tag}: ' line here, found {found!r}" if found is not None
                else "missing (the message ends too early)"
            )  # fmt: skip
        return self.take(tag)[len(tag) + 2 :]


def render_message(message: SiweMessage) -> str:
    """The canonical text of a message (what a wallet shows and signs); parse_message's inverse."""
    head = f"{message.scheme}://{message.domain}" if message.scheme else message.domain
    lines = [head + HEADER_SUFFIX, message.address, ""]
    if message.statement is not None:
        lines += [message.statement, ""]
    else:
        lines.append("")
    lines += [
        f"URI: {message.uri}",
        f"Version: {message.version}",
        f"Chain ID: {message.chain_id}",
        f"Nonce: {message.nonce}",
        f"Issued At: {_rfc3339(message.issued_at)}",
    ]
    if message.expiration_time is not None:
        lines.append(f"Expiration Time: {_rfc3339(message.expiration_time)}")
    if message.not_before is not None:
        lines.append(f"Not Before: {_rfc3339(message.not_before)}")
    if message.request_id is not None:
        lines.append(f"Request ID: {message.request_id}")
    if message.resources:
        lines.append("Resources:")
        lines += [f"- {resource}" for resource in message.resources]
    return "\n".join(lines)


def sign_in_message(
    nonce: dict, api_url: str, address: str, statement: str, minutes: int = 10
) -> str:
    """The text to personal_sign for the API at `api_url`, from its `POST /v1/auth/nonce`
    answer (`domain`, `chainId`, `nonce`): valid for `minutes` from now."""
    now = datetime.now(UTC).replace(microsecond=0)
    return render_message(
        SiweMessage(
            domain=nonce["domain"], address=address, statement=statement,
            uri=f"{urlsplit(api_url).scheme}://{nonce['domain']}/v1/auth/siwe", version="1",
            chain_id=nonce["chainId"], nonce=nonce["nonce"], issued_at=now,
            expiration_time=now + timedelta(minutes=minutes),
        )
    )  # fmt: skip


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
