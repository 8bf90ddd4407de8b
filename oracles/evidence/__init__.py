"""Content-addressed, encrypted evidence store (camera stills and clips of incidents).

Use `open_store(EvidenceConfig.from_env(data_dir))`, then `put(image) -> StoredEvidence`
(anchor `.cid.binary` and `.content_hash`), `get(cid) -> image`, `has(cid)`.
See docs/evidence-store.md.
"""

from oracles.evidence.cid import Cid, cid_for_bytes, import_bytes, parse_cid
from oracles.evidence.errors import (
    CidError,
    EvidenceBackendError,
    EvidenceConfigError,
    EvidenceError,
    EvidenceIntegrityError,
    EvidenceNotFound,
)
from oracles.evidence.store import (
    IPFS_API_ENV,
    EvidenceConfig,
    EvidenceStore,
    StoredEvidence,
    open_store,
)

__all__ = [
    "IPFS_API_ENV",
    "Cid",
    "CidError",
    "EvidenceBackendError",
    "EvidenceConfig",
    "EvidenceConfigError",
    "EvidenceError",
    "EvidenceIntegrityError",
    "EvidenceNotFound",
    "EvidenceStore",
    "StoredEvidence",
    "cid_for_bytes",
    "import_bytes",
    "open_store",
    "parse_cid",
]
