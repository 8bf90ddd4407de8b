"""Shared plumbing of the operators' scripts (scripts/*.py, run with `brownie run`).

Every script's `main(*argv)` hands its argv to `entry.run_script`, which

* parses it with argparse (also `key=value` and a leading `--`, because `brownie run` refuses
  unknown `--flags` after the function name; see docs/operator-scripts.md),
* prints usage for `help`, `-h` or `--help` and returns,
* turns every failure (bad argument, missing deployment, contract revert, unexpected error) into
  exactly one line `error: <what is wrong and how to fix it>` on stderr and `SystemExit` with a
  non-zero code: 2 for a bad command line, 1 when the ledger or the deployment refused.

One module per concern:

    entry        run_script: parse, run, one `error:` line per failure
    errors       CliError / UsageError, exit codes, `fail`, partial-progress messages
    parsing      the argparse parser, key=value options, the shared options (--as, --verbose, ...)
    arg_types    argument types (amounts, ids, degrees, references), each with a fixing message
    days         KST calendar days: date arguments and day numbers
    windows      weekly sharing windows: parse, format, check (swappable for citypass.core.windows)
    reverts      contract reverts in words (swappable for citypass.protocol's decoder)
    accounts     who signs and which address: stakeholder names, indexes, keystores
    deployments  the recorded deployment, checked against the connected chain
    context      Context: network, deployment, signers and transactions of one run
    terms        ledger vocabulary (slot categories, payee kinds, lease statuses)
    output       tables, won amounts, id ranges, progress bars
    events       event scans over the whole chain
    api_client   the citypass-api as staff: SIWE sign-in with the signer's key, JSON calls
    applications member.py's application actions (list, approve, reject) through the API
"""
