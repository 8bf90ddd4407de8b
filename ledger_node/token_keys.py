"""The token issuer's key pair: a P-256 private key (PKCS#8 PEM, encrypted with scrypt and
AES-256 under a password) that signs JSON-RPC tokens, and its public key (PEM) that the node
verifies them with. `ledger-node init` writes both into the data directory's keystore/ (so a
backup carries them); an operator may keep the private key elsewhere and leave only the public
key on the node."""

from __future__ import annotations

from pathlib import Path

from Crypto.PublicKey import ECC

from citypass.core.files import create_exclusively
from citypass.core.keystore import light_kdf
from ledger_node.config import KEYSTORE_DIR
from ledger_node.errors import KeystoreError
from ledger_node.rpc_auth import Authenticator
from ledger_node.rpc_tokens import audience_for

ISSUER_KEY_FILE = "rpc-token-issuer.pem"
PUBLIC_KEY_FILE = "rpc-token-public.pem"
CURVE = "P-256"
DEFAULT_PEM_SCRYPT_N = 2**14  # PyCryptodome's own default for scryptAndAES256-CBC
LIGHT_PEM_SCRYPT_N = 2**10  # CITYPASS_LIGHT_KDF=1: 16 times cheaper
CURVE_NAMES = frozenset({"NIST P-256", "p256", "P-256", "secp256r1", "prime256v1"})


def issuer_key_path(data_dir: Path) -> Path:
    return data_dir / KEYSTORE_DIR / ISSUER_KEY_FILE


def public_key_path(data_dir: Path) -> Path:
    return data_dir / KEYSTORE_DIR / PUBLIC_KEY_FILE


def create_key_pair(directory: Path, password: str) -> tuple[Path, Path]:
    """Write a new issuer key (encrypted under `password`) and its public key into
    `directory`; refuses to overwrite either."""
    private, public = directory / ISSUER_KEY_FILE, directory / PUBLIC_KEY_FILE
    for path in (private, public):
        if path.exists():
            raise KeystoreError(f"{path} already exists: keep it, or remove it to make a new pair")
    key = ECC.generate(curve=CURVE)
    # PyCryptodome's scrypt cost (2**14) unless CITYPASS_LIGHT_KDF=1 asks for a throwaway key's.
    cost = LIGHT_PEM_SCRYPT_N if light_kdf() else DEFAULT_PEM_SCRYPT_N
    create_exclusively(
        private,
        key.export_key(
            format="PEM",
            passphrase=password,
            protection="scryptAndAES256-CBC",
            prot_params={"iteration_count": cost},
        ),
    )
    create_exclusively(public, key.public_key().export_key(format="PEM"), mode=0o644)
    return private, public


def load_issuer_key(path: Path, password: str) -> ECC.EccKey:
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeystoreError(
            f"cannot read the token issuer key {path}: {exc.strerror or exc}"
        ) from exc
    try:
        key = ECC.import_key(text, passphrase=password)
    except (ValueError, IndexError, TypeError) as exc:
        raise KeystoreError(
            f"cannot open the token issuer key {path}: wrong password, or not an encrypted "
            "P-256 key (make one with `ledger-node token-key`)"
        ) from exc
    if not key.has_private() or key.curve not in CURVE_NAMES:
        raise KeystoreError(f"{path} is not a P-256 private key")
    return key


def load_public_key(path: Path) -> ECC.EccKey:
    try:
        key = ECC.import_key(path.read_text())
    except OSError as exc:
        raise KeystoreError(
            f"cannot read the token public key {path}: {exc.strerror or exc}"
        ) from exc
    except (ValueError, IndexError, TypeError) as exc:
        raise KeystoreError(f"{path} is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from exc
    if key.has_private():
        raise KeystoreError(
            f"{path} holds a private key: give the node the public key only ({PUBLIC_KEY_FILE})"
        )
    if key.curve not in CURVE_NAMES:
        raise KeystoreError(f"{path} is a {key.curve} key; tokens are ES256 (P-256)")
    return key


def rpc_authenticator(data_dir: Path, chain_id: int, public_key: Path | None) -> Authenticator:
    """The node's token verifier: the key given, else the data directory's public key, else
    none (then only the keyless wallet methods are served and every token is refused)."""
    if public_key is None and public_key_path(data_dir).exists():
        public_key = public_key_path(data_dir)
    key = load_public_key(public_key) if public_key is not None else None
    return Authenticator(key, audience_for(chain_id))
