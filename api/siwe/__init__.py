"""Sign-In with Ethereum (EIP-4361) for staff: operators, the village enterprise, inspectors and
the city. A strict message parser, single-use nonces and sessions bound to on-chain roles, kept
in the read-model database so they survive an API restart, and the FastAPI dependencies that
re-check those roles on every request."""
