"""`ledger-node token` and `ledger-node token-key`: issue JSON-RPC access tokens, and make the
issuer's key pair for an issuer kept away from the node."""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from citypass.core.cli import file_option
from citypass.core.keystore import MIN_PASSWORD_LENGTH
from ledger_node.cli_common import Abort, password_file_option
from ledger_node.config import load_config
from ledger_node.errors import LedgerNodeError
from ledger_node.keystore import resolve_password
from ledger_node.rpc_auth import SERVICE_PERMISSIONS
from ledger_node.rpc_tokens import audience_for, check_permissions, issue, moment
from ledger_node.token_keys import create_key_pair, issuer_key_path, load_issuer_key

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LIFETIME_DAYS = 400
SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$")


def parse_lifetime(text: str) -> int:
    """Seconds in `90d`, `12h`, `30m` or `3600s`; ValueError saying what to write."""
    found = re.fullmatch(r"\s*(\d{1,9})\s*([smhd])\s*", text)
    seconds = int(found.group(1)) * UNIT_SECONDS[found.group(2)] if found else 0
    if not found or seconds <= 0:
        raise ValueError(f"--expires {text!r}: write a lifetime like 90d, 12h, 30m or 3600s")
    if seconds > MAX_LIFETIME_DAYS * 86400:
        raise ValueError(
            f"--expires {text!r} is over {MAX_LIFETIME_DAYS} days: issue a new token instead"
        )
    return seconds


@click.command(short_help="Issue a JSON-RPC access token (an ES256 JWT) for a service.")
@click.option(
    "--subject",
    default=None,
    help="Who holds it: api, indexer, oracle-1, auditor-city… (default: the --service name).",
)
@click.option(
    "--service",
    type=click.Choice(sorted(SERVICE_PERMISSIONS)),
    default=None,
    help="Grant a service's permission set (docs/ledger-node.md, ## Who may read what), e.g. "
    "witness for a witness daemon; instead of --permissions.",
)
@click.option(
    "--permissions",
    default=None,
    help="Comma-separated methods it may call, as Besu writes them: 'eth:*,ledger:getSeal,"
    "net:version', or '*:*' for all.",
)
@click.option("--expires", required=True, help="Lifetime: 90d, 12h, 30m or 3600s (at most 400d).")
@file_option(
    "--key", "The issuer's encrypted key (default: DATA_DIR/keystore/rpc-token-issuer.pem)."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A node's data directory: its issuer key and its chain id.",
)
@click.option(
    "--chain-id",
    type=click.IntRange(1, 2**32 - 1),
    default=None,
    help="The ledger the token is for (default: the data directory's chain id).",
)
@password_file_option
def token(
    subject: str | None,
    service: str | None,
    permissions: str | None,
    expires: str,
    key: Path | None,
    data_dir: Path | None,
    chain_id: int | None,
    password_file: Path | None,
) -> None:
    """Print a token (one line on stdout) signed with the issuer's key; what it grants goes to
    stderr. Give it to the service inside its node URL (http://node:8545/t/TOKEN) or as
    `Authorization: Bearer TOKEN`."""
    if (service is None) == (permissions is None):
        raise Abort("give --service NAME (a service's permission set) or --permissions, not both")
    if service is not None:
        permissions = ",".join(SERVICE_PERMISSIONS[service])
        subject = subject or service
    if subject is None:
        raise Abort("give --subject: who holds the token (e.g. indexer)")
    assert permissions is not None  # one of the two, checked above
    try:
        if not SUBJECT.fullmatch(subject):
            raise ValueError(
                f"--subject {subject!r}: use 1 to 64 letters, digits or . _ @ : - (e.g. indexer)"
            )
        lifetime = parse_lifetime(expires)
    except ValueError as exc:
        raise Abort(str(exc)) from exc
    try:
        granted = check_permissions([p.strip() for p in permissions.split(",") if p.strip()])
    except ValueError as exc:
        raise Abort(f"--permissions: {exc}") from exc
    if key is None and data_dir is None:
        raise Abort(
            "give --key FILE (the issuer's key) or --data-dir DIR (a node's data directory)"
        )
    try:
        if chain_id is None:
            if data_dir is None:
                raise Abort("give --chain-id (the ledger the token is for) or --data-dir")
            chain_id = load_config(data_dir).chain_id
        key_path = key if key is not None else issuer_key_path(data_dir)  # type: ignore[arg-type]
        signer = load_issuer_key(key_path, resolve_password(password_file))
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    now = int(time.time())
    signed = issue(
        signer,
        now=now,
        subject=subject,
        audience=audience_for(chain_id),
        permissions=granted,
        lifetime_seconds=lifetime,
    )
    click.echo(signed)
    click.echo(
        f"token for {subject!r} on {audience_for(chain_id)}: {', '.join(granted)}; "
        f"expires {moment(now + lifetime)}",
        err=True,
    )


@click.command("token-key", short_help="Make a token issuer key pair (for an issuer off the node).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for rpc-token-issuer.pem (encrypted) and rpc-token-public.pem.",
)
@password_file_option
def token_key(out: Path, password_file: Path | None) -> None:
    """`ledger-node init` makes a pair in the data directory; this makes one elsewhere (the
    issuer's machine). Give the node the public key with `start --jwt-public-key`."""
    try:
        password = resolve_password(password_file)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Abort(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        private, public = create_key_pair(out, password)
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    click.echo(f"issuer key (encrypted)  {private}")
    click.echo(f"public key (for nodes)  {public}")
