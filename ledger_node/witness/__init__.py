"""A witness: another organisation's daemon that follows the node's journal over JSON-RPC,
re-executes every block on an engine of its own, co-signs checkpoints (EIP-712,
citypass/protocol/checkpoints.py) and refuses, with evidence, a history inconsistent with what it
co-signed (docs/witnesses.md). It reuses the node's engine, journal, replay and snapshots."""
