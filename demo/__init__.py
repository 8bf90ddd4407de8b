"""The main job: the Sangsalmi village on a development chain, one simulated day, a summary."""
