"""ledger_node: the CityPass permissioned node in front of the anvil EVM engine."""
