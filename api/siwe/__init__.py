"""Sign-In with Ethereum (EIP-4361) for staff: operators, the village enterprise, inspectors and
the city. A strict message parser, single-use nonces, server-side sessions bound to on-chain
roles, and the FastAPI dependencies that re-check those roles on every request."""
