"""One router per resource, all mounted under /v1 (system routes at the root)."""
