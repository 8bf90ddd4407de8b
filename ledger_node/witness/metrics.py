"""GET /metrics of a witness: read at scrape time from its state (one registry per witness)."""

from __future__ import annotations

from prometheus_client.core import Metric

from citypass.core.prometheus import counter_by, counter_value, gauge_value
from ledger_node.witness.witness import Witness

REFUSAL_REASONS = (
    "fork", "rewrite", "truncation", "bad_seal", "journal_hash", "replay", "malformed_entry",
    "malformed", "other_chain", "older", "not_executed", "differs", "alarm",
)  # fmt: skip


def witness_families(witness: Witness) -> list[Metric]:
    cosigned = witness.cosigned.checkpoint.number if witness.cosigned else -1
    node_head = witness.node_head if witness.node_head is not None else -1
    lag = max(0, node_head - witness.head.number) if node_head >= 0 else -1
    return [
        gauge_value("witness_head_block", "Newest block re-executed.", witness.head.number),
        gauge_value("witness_cosigned_block", "Newest block co-signed (-1: none).", cosigned),
        gauge_value("witness_node_head_block", "The node's head as last seen (-1: never).", node_head),
        gauge_value("witness_lag_blocks", "Blocks the witness is behind the node (-1: unknown).", lag),
        gauge_value("witness_alarm", "1 once the witness refused the node's history.", int(witness.alarm is not None)),
        gauge_value("witness_node_up", "1 while the node answers.", int(witness.node_error is None)),
        counter_value("witness_executed_blocks_total", "Blocks re-executed from the node since start.", witness.executed_blocks),
        gauge_value("witness_recovered_head_block", "The head this start recovered from its own journal.", witness.recovery.head),
        gauge_value("witness_recovered_from_block", "The snapshot block this start replayed from (0: genesis).", witness.recovery.replayed_from),
        counter_by(
            "witness_refusals_total", "Histories and co-signing requests refused, by reason.", "reason",
            {reason: witness.refusals.get(reason, 0) for reason in REFUSAL_REASONS},
        ),
        counter_by(
            "witness_submissions_total", "Co-signatures handed to the node, by outcome.", "outcome",
            {outcome: witness.submissions.get(outcome, 0) for outcome in ("accepted", "refused")},
        ),
    ]  # fmt: skip
