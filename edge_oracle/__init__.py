"""edge_oracle: runs beside sensors and AI cameras; reads, normalises, signs, buffers and
delivers their events to the oracle daemon (DESIGN §2)."""
