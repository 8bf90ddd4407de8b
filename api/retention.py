"""The API's retention: its key table (<data_dir>/keys.sqlite: the data keys of the personal
records it keeps off chain, their deletion records), the record kinds its sweep covers, the
periodic sweep, and the oracle daemon's evidence key table it reads for holds and deletion
records (docs/privacy.md "How long each thing is kept", docs/api.md "Retention").

Another kind of personal record plugs in here: give it a RetentionKind (see
api/applications/retention.py) and add it to `retention_kinds`; its data keys go in the same
key table under its own kind name, and `GET /v1/retention/deletions?kind=<it>` serves its
deletion records to auditors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from sqlalchemy import Engine

from api.applications.retention import ApplicationPeriods, ApplicationRetention
from api.metrics import Metrics
from api.settings import Settings
from api.vehicles.retention import VehicleRetention
from citypass.core.retention import RetentionKind, SweepReport, sweep
from citypass.core.shredding import KeyTable

log = logging.getLogger("api.retention")
PROCESS = "citypass-api"
EVIDENCE = "evidence"  # the oracle daemon's kind (oracles/evidence/store.py KIND)
# The oracle daemon's evidence key table under its data directory (oracles/evidence/store.py).
EVIDENCE_KEY_TABLE = Path("evidence") / "keys.sqlite"


def open_record_keys(settings: Settings) -> KeyTable:
    return KeyTable.open(settings.record_keys_path, PROCESS)


def open_evidence_keys(settings: Settings) -> KeyTable | None:
    """The oracle daemon's evidence key table, or None while it does not exist (the daemon
    creates it when it first stores evidence)."""
    try:
        return KeyTable.open(Path(settings.evidence_dir) / EVIDENCE_KEY_TABLE, PROCESS,
                             create=False)  # fmt: skip
    except FileNotFoundError:
        return None


def retention_kinds(settings: Settings, engine: Engine, keys: KeyTable) -> list[RetentionKind]:
    """Every record kind the API's sweep covers."""
    periods = ApplicationPeriods(
        rejected_days=settings.retain_rejected_application_days,
        approved_days=settings.retain_approved_application_days,
    )
    vehicles = VehicleRetention(engine, keys, settings.retain_vehicle_days)
    return [ApplicationRetention(engine, keys, periods), vehicles]


def sweep_records(
    settings: Settings, engine: Engine, keys: KeyTable, now: float | None = None,
    *, dry_run: bool = False,
) -> SweepReport:  # fmt: skip
    kinds = retention_kinds(settings, engine, keys)
    return sweep(keys, kinds, time.time() if now is None else now, dry_run=dry_run)


async def sweep_periodically(
    settings: Settings, engine: Engine, keys: KeyTable, metrics: Metrics
) -> None:
    """The API process's sweep, every retention_sweep_seconds until cancelled; the deletion
    records it finds (any process's) are counted on /metrics."""
    while True:
        try:
            report = await asyncio.to_thread(sweep_records, settings, engine, keys)
            log.info("retention sweep", extra={"shredded": len(report.shredded)})
            counts = await asyncio.to_thread(keys.deletion_counts)
            for (kind, reason), count in counts.items():
                metrics.deletion_records.labels(kind, reason).set(count)
        except Exception as exc:  # noqa: BLE001 - logged; the next period tries again
            log.warning("retention sweep failed", extra={"error": str(exc)})
        await asyncio.sleep(settings.retention_sweep_seconds)
