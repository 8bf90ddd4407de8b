"""Residents' membership applications for scripts/member.py: list them, approve one (the
operator onboards the applicant on chain with their own key; the API then reads the
application approved from the chain) or reject one with a reason code (through the API).

Applications and their personal data live in the citypass-api's database only: the script
signs in to the API as staff (SIWE) with the same key that signs its transactions."""

from __future__ import annotations

import argparse
import time
from typing import Any

from api.schemas.applications import REASON_CODES
from citypass.core.timeunits import kst

from .api_client import StaffApi, api_url, sign_text
from .arg_types import positive_int
from .context import Context
from .errors import CliError, UsageError
from .output import table
from .terms import MEMBER_STATUSES

ACTIONS = ("applications", "approve", "reject")
STATUSES = ("PENDING", "APPROVED", "REJECTED")
# How long `approve` waits for the API to read the onboarding from the chain.
INDEXED_WAIT_S = 30.0


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api", metavar="URL",
        help="the citypass-api's base URL (default $CITYPASS_API_URL, else "
        "http://127.0.0.1:8080): applications, approve, reject",
    )  # fmt: skip
    parser.add_argument(
        "--status", type=str.upper, choices=STATUSES, default="PENDING",
        help="applications only: which to list (default PENDING)",
    )  # fmt: skip


def application_id(args: argparse.Namespace) -> int:
    if len(args.accounts) != 1:
        raise UsageError(f"{args.action} takes one application id (see `applications`)")
    try:
        return positive_int(args.accounts[0])
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"application id {args.accounts[0]!r}: {exc}") from exc


def reason_code(text: str | None) -> str:
    if text is None:
        raise UsageError(f"reject needs reason=CODE, one of {', '.join(REASON_CODES)}")
    code = text.upper()
    if code not in REASON_CODES:
        raise UsageError(
            f"reason={text!r}: a rejection's reason is one of {', '.join(REASON_CODES)}"
        )
    return code


def run(args: argparse.Namespace, ctx: Context) -> Any:
    """The application actions (args.action in ACTIONS)."""
    url = api_url(args.api)
    if args.action == "applications":
        if args.accounts:
            raise UsageError("applications takes no ACCOUNT or ID; filter with status=")
        wanted = None
    else:
        wanted = application_id(args)
    code = reason_code(args.reason) if args.action == "reject" else None
    if args.action != "reject" and args.reason is not None:
        raise UsageError(f"--reason goes with suspend and reject, not {args.action}")
    signer = ctx.signer(what=f"the sign-in to the API ({args.action})")
    api = StaffApi.sign_in(url, signer.address, sign_text(signer))
    if wanted is None:
        return _list(api, args.status)
    if code is not None:
        done = api.call(
            "POST", f"/v1/staff/applications/{wanted}/reject", json={"reasonCode": code},
            what=f"reject application {wanted}",
        )  # fmt: skip
        print(f"rejected application {wanted} of {done['address']} ({code})")
        return done
    return _approve(api, ctx, signer, wanted)


def _list(api: StaffApi, status: str) -> list[dict[str, Any]]:
    found = api.call(
        "GET", "/v1/staff/applications", params={"status": status},
        what="list the applications",
    )["applications"]  # fmt: skip
    # Personal fields past their retention period are null (shredded): say so, not "None".
    rows = [
        (a["applicationId"], a["address"],
         *(a[f] if a[f] is not None else "(deleted)" for f in ("name", "phone", "homeAddress")),
         kst(a["submittedAt"]).strftime("%Y-%m-%d %H:%M"))
        for a in found
    ]  # fmt: skip
    print(f"{len(found)} {status.lower()} application(s)")
    if rows:
        print(table(rows, ("id", "address", "name", "phone", "home address", "submitted (KST)")))
    return found


def _approve(api: StaffApi, ctx: Context, signer: Any, wanted: int) -> dict[str, Any]:
    """Onboard the applicant with the operator's key, then wait for the API to read it."""
    path = f"/v1/applications/{wanted}"
    application = api.call("GET", path, what=f"read application {wanted}")
    if application["status"] != "PENDING":
        raise CliError(
            f"application {wanted} is {application['status'].lower()}, not pending: nothing to "
            "approve"
        )
    address = application["address"]
    access = ctx.system().access
    status = MEMBER_STATUSES[int(access.memberStatus(address))]
    if status != "none":
        raise CliError(
            f"{address} is already {status} on CityAccess: nothing was sent"
            + ("; reinstate it instead" if status == "suspended" else "")
        )
    tx = ctx.send(access.onboard, address, signer=signer, what=f"onboarding {address}")
    deadline = time.monotonic() + INDEXED_WAIT_S
    while application["status"] != "APPROVED" and time.monotonic() < deadline:
        time.sleep(0.5)
        application = api.call("GET", path, what=f"read application {wanted}")
    if application["status"] == "APPROVED":
        print(f"approved application {wanted}: onboarded {address} (tx {tx.txid})")
    else:
        print(
            f"onboarded {address} (tx {tx.txid}); the API has not read it from the chain yet "
            "and will show the application approved once it has"
        )
    return application
