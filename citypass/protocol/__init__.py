"""Wire formats and on-chain constants shared by the edge, the oracles, the API and the indexer."""
