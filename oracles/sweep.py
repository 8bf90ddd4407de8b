"""The evidence retention sweep as the oracle daemon runs it (periodically) and as
`citypass-oracle sweep` runs it once (docs/oracle-daemon.md "Retention sweep")."""

from __future__ import annotations

from collections.abc import Callable, Collection

from citypass.core.retention import SweepReport, sweep
from oracles.config import OracleSettings
from oracles.evidence.retention import (
    OPEN,
    EvidencePeriods,
    EvidenceRetention,
    IncidentFacts,
    IncidentIndex,
)
from oracles.evidence.store import EvidenceStore
from oracles.ledger import Ledger


def evidence_periods(settings: OracleSettings) -> EvidencePeriods:
    return EvidencePeriods(
        dismissed_days=settings.retain_dismissed_days,
        confirmed_days=settings.retain_confirmed_days,
        unanchored_days=settings.retain_unanchored_days,
    )


def sweep_evidence(
    store: EvidenceStore,
    ledger: Ledger,
    settings: OracleSettings,
    now: float,
    *,
    dry_run: bool = False,
    on_shred: Callable[[str, str], None] | None = None,
    awaiting: Collection[bytes] = (),
) -> SweepReport:
    """Shred the evidence whose period ran out (incident facts read from the chain now).
    `awaiting`: evidence hashes of incidents the daemon has yet to file (Inbox.awaiting_evidence),
    kept as if their incident were open: with the node down longer than the unanchored period,
    they would otherwise be shredded just before their incident lands."""

    def incidents() -> IncidentIndex:
        index = ledger.incident_index()
        for content_hash in awaiting:
            index.setdefault(content_hash, []).append(IncidentFacts(0, OPEN, 0))
        return index

    kind = EvidenceRetention(store, evidence_periods(settings), incidents)
    return sweep(store.keys, [kind], now, dry_run=dry_run, on_shred=on_shred)
