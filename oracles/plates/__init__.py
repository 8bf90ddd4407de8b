"""Keyed-hash plate matching (docs/oracle-daemon.md, "Plate tags"): a camera's arrival carrying a
plate tag is compared with the registered vehicle tags of the lessee of the slot's lease (read
from the API as ORACLE, `tags_client.py`); a match checks the lease in, a mismatch files an
unauthorised occupancy with the arrival's still (`matcher.py`). No plate is ever seen here."""
