"""Residents' registered vehicles, kept only as keyed-hash plate tags (DESIGN §6, docs/privacy.md):
the plate-tag secret (`keys.py`), the table (`tables.py`) and its queries (`store.py`)."""
