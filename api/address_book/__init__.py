"""The address book staff keep: names of known addresses (stakeholders, mobility operators, lot
operators, contracts, organisations), off chain in the read-model database, with the privacy
guard that keeps residents pseudonymous (DESIGN §6)."""
