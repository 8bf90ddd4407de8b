"""A home space's exact spot and access instructions (docs/privacy.md, "Where a home space is"):
on chain a PERSONAL slot is placed only by its coarse cell (citypass/protocol/coarse_location.py);
its owner keeps the exact spot and how to get in here, off chain in the API's database, and the
API gives them to the owner and to the lessee of a confirmed lease only (api/record_access.py)."""
