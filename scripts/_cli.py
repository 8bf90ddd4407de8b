"""Shared plumbing of the operators' scripts: argument parsing, signers, reverts, one-line errors.

Every script's `main(*argv)` hands its argv to `run_script`, which

* parses it with argparse (also `key=value` and a leading `--`, because `brownie run` refuses
  unknown `--flags` after the function name; see docs/operator-scripts.md),
* prints usage for `help`, `-h` or `--help` and returns,
* turns every failure (bad argument, missing deployment, contract revert, unexpected error) into
  exactly one line `error: <what is wrong and how to fix it>` on stderr and `SystemExit` with a
  non-zero code: 2 for a bad command line, 1 when the ledger or the deployment refused.

`SystemExit` is not an `Exception`, so `brownie run` lets it through untouched: no traceback,
and the process exits with our code.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import io
import json
import math
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from citypass.chain import deployment
from citypass.core.windows import MAX_WINDOWS, Window
from citypass.protocol.roles import ROLE_NAMES, ROLES

USAGE_ERROR = 2  # the command line is wrong
FAILED = 1  # the deployment, the keystore or the ledger refused

DEBUG_ENV = "CITYPASS_DEBUG"
PASSWORD_ENV = "CITYPASS_KEYSTORE_PASSWORD"

# Development accounts by index: the same order as tests/conftest.py and Stakeholders.
STAKEHOLDERS = {
    "admin": 0,
    "treasury": 1,
    "village-enterprise": 2,
    "city-fund": 3,
    "platform": 4,
    "operator": 5,
    "oracle": 6,
}
_STAKEHOLDER_ALIASES = {"village": "village-enterprise", "city": "city-fund"}

CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT", "RESIDENT_PRIORITY", "PERSONAL")
_CATEGORY_NAMES = {
    "public": 0,
    "public_lot": 0,
    "private": 1,
    "private_lot": 1,
    "resident": 2,
    "resident_priority": 2,
    "personal": 3,
}
PAYEE_KINDS = ("owner", "village enterprise", "city fund", "platform")
LEASE_STATUSES = ("NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW")

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {
    "daily": 0b1111111,
    "everyday": 0b1111111,
    "weekdays": 0b0011111,
    "weekend": 0b1100000,
}


class CliError(Exception):
    """A failure the operator can fix; the message is the whole explanation."""

    code = FAILED


class UsageError(CliError):
    code = USAGE_ERROR


# ------------------------------------------------------------------------------- the entry


def run_script(
    build_parser: Callable[[], argparse.ArgumentParser],
    action: Callable[[argparse.Namespace, Context], Any],
    argv: Sequence[Any],
) -> Any:
    """Parse `argv`, run `action(args, ctx)`, and turn every failure into one `error:` line."""
    try:
        parser = build_parser()
        args = parse_args(parser, argv)
        if args is None:
            return None
        return action(args, Context(args))
    except CliError as exc:
        fail(str(exc), exc.code)
    except deployment.DeploymentError as exc:
        fail(str(exc), FAILED)
    except KeyboardInterrupt:
        fail("interrupted; transactions already sent stay on the ledger", FAILED)
    except Exception as exc:  # noqa: BLE001 - everything else still gets one readable line
        if _is_revert(exc):
            fail(f"the ledger refused the transaction: {describe_revert(exc)}", FAILED)
        if os.environ.get(DEBUG_ENV):
            raise
        fail(
            f"unexpected {type(exc).__name__}: {_one_line(str(exc))} "
            f"(set {DEBUG_ENV}=1 to see the traceback)",
            FAILED,
        )


def fail(message: str, code: int = FAILED) -> None:
    """Print `error: message` as one line on stderr and exit with `code`."""
    sys.stdout.flush()
    print(f"error: {_one_line(message)}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown failure"


# ----------------------------------------------------------------------------- arguments


class ScriptParser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line) instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (usage: `{self.prog} help`)")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if status:
            raise UsageError(message or "bad arguments")
        raise _HelpShown


class _HelpShown(Exception):
    pass


ACCOUNT_HELP = (
    "0x-address; on development also an account index (0-19) or stakeholder name; "
    "or the name of a brownie keystore"
)

_SYNTAX_NOTE = (
    "`brownie run` rejects --options after the function name, so write options as key=value "
    "(reason=LOST-CARD, force=yes), or put `--` before them and --network before that: "
    "brownie run --network NET scripts/NAME.py main -- --reason LOST-CARD. "
    "Errors print one line `error: ...` on stderr and exit 2 (bad arguments) or 1 (refused)."
)


def new_parser(script: str, description: str, examples: Sequence[str] = ()) -> ScriptParser:
    epilog = ""
    if examples:
        epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) + "\n\n"
    epilog += textwrap.fill(_SYNTAX_NOTE.replace("NAME", script), width=88)
    return ScriptParser(
        prog=f"brownie run scripts/{script}.py main",
        description=textwrap.fill(description, width=88),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )


def add_signer(
    parser: argparse.ArgumentParser, default: str | None, what: str, shown: str | None = None
) -> None:
    shown = shown or default or "none"
    parser.add_argument(
        "--as",
        "--from",
        dest="signer",
        default=default,
        metavar="WHO",
        help=(
            f"who signs {what} (default: {shown}). A stakeholder name (admin, treasury, "
            "village-enterprise, city-fund, platform, operator, oracle), an account index or "
            "address on development, or a brownie keystore name / .json path (password from "
            f"${PASSWORD_ENV})"
        ),
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="show brownie's output for every transaction"
    )


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[Any]) -> argparse.Namespace | None:
    """Parse; returns None when usage was printed (help)."""
    tokens = [str(token) for token in argv]
    if tokens and tokens[0] == "--":
        tokens = tokens[1:]
    if tokens and tokens[0].lower() in ("help", "-h", "--help", "-help"):
        parser.print_help(sys.stdout)
        return None
    tokens = _expand_key_values(parser, tokens)
    try:
        return parser.parse_args(tokens)
    except _HelpShown:
        return None


def _expand_key_values(parser: argparse.ArgumentParser, tokens: list[str]) -> list[str]:
    """`reason=LOST-CARD` -> `--reason=LOST-CARD` and `force=yes` -> `--force`.

    Only the parser's own long options are expanded; any other token stays as it is."""
    options: dict[str, argparse.Action] = {
        option[2:]: action
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    out: list[str] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        name = key.replace("_", "-").lower()
        if not sep or token.startswith("-") or name not in options:
            out.append(token)
        elif options[name].nargs == 0:  # a flag such as --force or --revoke
            answer = value.strip().lower()
            if answer in ("", "yes", "true", "1", "on", "y"):
                out.append(f"--{name}")
            elif answer not in ("no", "false", "0", "off", "n"):
                raise UsageError(f"{token!r}: write {name}=yes or {name}=no (or --{name})")
        else:
            out.append(f"--{name}={value}")
    return out


# Argument types: each raises ArgumentTypeError with a message that says what to type instead.


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number above zero")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or a positive whole number")
    return value


def _whole_number(text: str) -> int:
    cleaned = text.replace(",", "").replace("_", "").strip()
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(cleaned)


def krw(text: str) -> int:
    """A KRW amount: 50000, 50,000, 50_000, ₩50,000 or 50000KRW. Credits have no decimals."""
    cleaned = re.sub(r"(?i)^(₩|krw)\s*|\s*(₩|krw|won)$", "", text.strip())
    cleaned = cleaned.replace(",", "").replace("_", "")
    if re.fullmatch(r"-\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is negative; amounts are above zero")
    if re.fullmatch(r"\d+\.\d*", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r}: credits are whole won, no decimals")
    if not re.fullmatch(r"\d+", cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in won (e.g. 50000)")
    value = int(cleaned)
    if value == 0:
        raise argparse.ArgumentTypeError("the amount must be above zero")
    return value


def category(text: str) -> int:
    key = text.strip().lower().replace("-", "_")
    if key.isdigit() and int(key) < len(CATEGORIES):
        return int(key)
    if key not in _CATEGORY_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown category {text!r}: use public, private, resident or personal"
        )
    return _CATEGORY_NAMES[key]


def role_name(text: str) -> str:
    name = text.strip().upper().replace("-", "_")
    if name not in ROLE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown role {text!r}: use one of {', '.join(ROLE_NAMES)}"
        )
    return name


def degrees(limit: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} {text!r} is not a number of degrees (e.g. 37.5031)"
            ) from None
        if not math.isfinite(value) or abs(value) > limit:
            raise argparse.ArgumentTypeError(f"{what} {text!r} is outside -{limit}..{limit}")
        return value

    parse.__name__ = what
    return parse


def bytes32_text(what: str) -> Callable[[str], bytes]:
    """An opaque reference (receipt number, suspension code) as bytes32.

    Up to 32 characters are stored as right-padded UTF-8, so they stay readable on-chain; a
    0x-prefixed 64-hex-digit value is taken as it is (e.g. a hash of a longer document)."""

    def parse(text: str) -> bytes:
        if re.fullmatch(r"0x[0-9a-fA-F]{64}", text):
            return bytes.fromhex(text[2:])
        raw = text.encode()
        if not raw.strip():
            raise argparse.ArgumentTypeError(f"the {what} is empty")
        if len(raw) > 32:
            raise argparse.ArgumentTypeError(
                f"the {what} is {len(raw)} bytes; use at most 32 characters or a 0x-prefixed "
                "32-byte hash"
            )
        return raw.ljust(32, b"\x00")

    parse.__name__ = what
    return parse


def show_bytes32(value: bytes) -> str:
    raw = bytes(value)
    text = raw.rstrip(b"\x00")
    try:
        decoded = text.decode()
    except UnicodeDecodeError:
        decoded = ""
    if decoded and decoded.isprintable() and b"\x00" not in text:
        return repr(decoded)
    return "0x" + raw.hex()


def slot_ids(text: str) -> list[int]:
    """'7', '7-12' or '7,9,11-13'."""
    ids: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a slot id or range (e.g. 7, 7-12 or 7,9,11-13)"
            )
        first, last = int(match[1]), int(match[2] or match[1])
        if first == 0 or last < first:
            raise argparse.ArgumentTypeError(
                f"{part!r}: slot ids start at 1 and ranges go low-high (e.g. 7-12)"
            )
        if last - first >= 1000:
            raise argparse.ArgumentTypeError(f"{part!r}: at most 1000 slots at a time")
        ids.extend(range(first, last + 1))
    return ids


def local_date(text: str) -> list[dt.date]:
    """'2025-05-05' or a range '2025-05-01..2025-05-05' (KST calendar days)."""
    first_text, sep, last_text = text.partition("..")
    try:
        first = dt.date.fromisoformat(first_text.strip())
        last = dt.date.fromisoformat(last_text.strip()) if sep else first
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date YYYY-MM-DD (or a range YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if last < first:
        raise argparse.ArgumentTypeError(f"{text!r}: the range ends before it starts")
    if (last - first).days > 92:
        raise argparse.ArgumentTypeError(f"{text!r}: at most 93 days per range")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_number(day: dt.date) -> int:
    """KST days since 1970-01-01: what ParkingSlots.setBlackout takes."""
    return (day - dt.date(1970, 1, 1)).days


# ------------------------------------------------------------------------- sharing windows


def parse_window(text: str) -> Window:
    """'Mon-Fri 09:00-18:00', 'Sat,Sun 10:00-16:00', 'daily 19:00-08:00' (overnight)."""
    parts = text.split()
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f"window {text!r} should be DAYS HH:MM-HH:MM, e.g. 'Mon-Fri 09:00-18:00'"
        )
    days_text, hours_text = parts
    mask = _days_mask(days_text, text)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", hours_text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"window {text!r}: hours should be HH:MM-HH:MM, e.g. 09:00-18:00"
        )
    start = _half_hour(int(match[1]), match[2], text, is_end=False)
    end = _half_hour(int(match[3]), match[4], text, is_end=True)
    if start == end:
        raise argparse.ArgumentTypeError(
            f"window {text!r} starts and ends at the same time; for all day use 00:00-24:00"
        )
    window = Window(mask, start, end or 48)
    if not window.is_valid():  # pragma: no cover - the checks above make this unreachable
        raise argparse.ArgumentTypeError(f"window {text!r} is not valid")
    return window


def _days_mask(days_text: str, whole: str) -> int:
    lowered = days_text.lower()
    if lowered in _DAY_GROUPS:
        return _DAY_GROUPS[lowered]
    mask = 0
    for item in lowered.split(","):
        first, sep, last = item.partition("-")
        start_day = _day_index(first, whole)
        end_day = _day_index(last, whole) if sep else start_day
        day = start_day
        while True:  # ranges may wrap, e.g. Fri-Mon
            mask |= 1 << day
            if day == end_day:
                break
            day = (day + 1) % 7
    return mask


def _day_index(name: str, whole: str) -> int:
    key = name.strip()[:3]
    if key not in DAY_NAMES or not name.strip():
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: unknown day {name!r}; use Mon Tue Wed Thu Fri Sat Sun, ranges "
            "like Mon-Fri, lists like Sat,Sun, or daily/weekdays/weekend"
        )
    return DAY_NAMES.index(key)


def _half_hour(hours: int, minutes: str, whole: str, *, is_end: bool) -> int:
    if minutes not in ("00", "30"):
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: times are on the hour or half-hour (:00 or :30), not :{minutes}"
        )
    if is_end and hours == 24 and minutes == "00":
        return 48
    if not 0 <= hours <= 23:
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: hour {hours:02d} is out of range (00-23, or 24:00 as an end)"
        )
    return hours * 2 + (1 if minutes == "30" else 0)


def format_window(window: Any) -> str:
    mask, start, end = (int(v) for v in window)
    return f"{format_days(mask)} {_clock(start)}-{_clock(end)}"


def format_days(mask: int) -> str:
    for name, group in (("daily", 0b1111111), ("Mon-Fri", 0b0011111), ("Sat-Sun", 0b1100000)):
        if mask == group:
            return name
    runs: list[str] = []
    day = 0
    while day < 7:
        if mask >> day & 1:
            end = day
            while end + 1 < 7 and mask >> (end + 1) & 1:
                end += 1
            first, last = DAY_NAMES[day].title(), DAY_NAMES[end].title()
            runs.append(first if end == day else f"{first}-{last}")
            day = end + 1
        else:
            day += 1
    return ",".join(runs)


def _clock(unit: int) -> str:
    return f"{unit // 2:02d}:{'30' if unit % 2 else '00'}"


def check_windows(windows: Sequence[Window]) -> None:
    if len(windows) > MAX_WINDOWS:
        raise UsageError(
            f"{len(windows)} windows given; a slot takes at most {MAX_WINDOWS} (merge some)"
        )


# ------------------------------------------------------------------------ reverts, in words


_GAS_ESTIMATION = re.compile(
    r"Gas estimation failed: '(.*)'\. This transaction will likely revert", re.S
)


def _is_revert(exc: BaseException) -> bool:
    """A contract revert: brownie's VirtualMachineError (development chains, which broadcast
    reverting transactions) or the ValueError it raises when gas estimation reverts (live)."""
    try:
        from brownie.exceptions import VirtualMachineError
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, VirtualMachineError):
        return True
    return isinstance(exc, ValueError) and bool(_GAS_ESTIMATION.search(str(exc)))


def _revert_message(exc: BaseException) -> str:
    match = _GAS_ESTIMATION.search(str(exc)) if isinstance(exc, ValueError) else None
    if match:
        return "" if match[1] == "None" else match[1].strip()
    return (getattr(exc, "revert_msg", None) or "").strip()


_ROLE_BY_HEX = {"0x" + value.hex(): name for name, value in ROLES.items()}
_ROLE_BY_HEX["0x" + "00" * 32] = "DEFAULT_ADMIN_ROLE"


_ARG = re.compile(r"""\s*(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)""")


def _split_args(rest: str) -> list[str]:
    """Split brownie's 'a, b, c' argument list; bytes come as Python literals (b'...')."""
    args: list[str] = []
    position = 0
    rest = rest.strip()
    while rest and position < len(rest):
        match = _ARG.match(rest, position)
        if not match or match.end() == position:
            break
        args.append(_bytes_as_hex(match[1].strip()))
        position = match.end()
    return args


def _bytes_as_hex(text: str) -> str:
    if text[:2] in ("b'", 'b"'):
        with contextlib.suppress(ValueError, SyntaxError):
            value = ast.literal_eval(text)
            if isinstance(value, bytes):
                return "0x" + value.hex()
    return text


def _pretty_arg(text: str) -> str:
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        return to_checksum_address(text)
    return _ROLE_BY_HEX.get(text.lower(), text)


def _hint(name: str, args: list[str]) -> str:
    a = [_pretty_arg(arg) for arg in args] + ["?"] * 3
    role_hint = (
        f"{a[0]} does not hold {_pretty_arg(a[1])}; sign as an account that does "
        "(--as ...) or grant the role with scripts/grant_role.py"
    )
    hints = {
        "CityAccessMissingRole": role_hint,
        "AccessControlUnauthorizedAccount": role_hint,
        "CityAccessAlreadyMember": f"{a[0]} is already a member (reinstate it if suspended)",
        "CityAccessNotMember": f"{a[0]} was never onboarded; onboard it first",
        "CityAccessAlreadySuspended": f"{a[0]} is already suspended",
        "CityAccessNotSuspended": f"{a[0]} is not suspended, so there is nothing to reinstate",
        "CityAccessInactiveMember": f"{a[0]} is suspended or was never onboarded",
        "CityAccessZeroAddress": "the zero address is not an account",
        "CityCreditPartyNotAllowed": (
            f"{a[0]} may not hold credits: onboard it with scripts/member.py onboard"
        ),
        "CityCreditZeroAmount": "the amount must be above zero",
        "ParkingSlotsUnknownSlot": f"slot {a[0]} does not exist",
        "ParkingSlotsNotSlotOwner": (
            f"{a[1]} neither owns nor is approved for slot {a[0]}; sign as the owner (--as)"
        ),
        "ParkingSlotsInvalidWindow": f"window #{a[0]} is malformed (or there are more than 5)",
        "ParkingSlotsInvalidPrice": (
            "prices are 1..1,000,000 KRW per 30 min and 0..1,000,000 KRW per 10 min overage"
        ),
        "ParkingSlotsInvalidDay": "blackout days must lie between today and two years ahead",
        "ParkingSlotsInvalidLocation": "latitude must be within ±90 and longitude within ±180",
        "ParkingSlotsInvalidCategory": "use public, private, resident or personal",
    }
    return hints.get(name, "")


def describe_revert(exc: BaseException) -> str:
    """'ErrorName(args): what it means' from brownie's decoded `revert_msg`."""
    message = _revert_message(exc)
    if not message or message == "revert":
        detail = getattr(exc, "message", None) or str(exc)
        return f"reverted without a reason ({_one_line(detail)[:200]})"
    name, sep, rest = message.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return message
    args = _split_args(rest)
    text = f"{name}({', '.join(_pretty_arg(arg) for arg in args)})"
    hint = _hint(name, args)
    return f"{text}: {hint}" if hint else text


# ------------------------------------------------------------------------------- context


@dataclass
class Context:
    """The connected network, the recorded deployment and the accounts, resolved on demand."""

    args: argparse.Namespace
    _system: Any = field(default=None, repr=False)

    # --- network

    @property
    def network(self) -> str:
        from brownie import network

        if not network.is_connected():
            raise CliError("not connected to a network; run the script with `brownie run`")
        return str(network.show_active())

    @property
    def is_development(self) -> bool:
        from brownie._config import CONFIG

        return CONFIG.network_type == "development"

    def chain_id(self) -> int:
        from brownie import web3

        return int(web3.eth.chain_id)

    def containers(self) -> Any:
        from brownie.project import get_loaded_projects

        projects = get_loaded_projects()
        if projects:
            return projects[0]
        import brownie

        return brownie

    # --- deployment

    def system(self) -> deployment.System:
        """The recorded contracts, checked to exist on the connected chain."""
        if self._system is not None:
            return self._system
        network = self.network
        path = deployment.deployment_file(network)
        state = record_state(path, self.chain_id())
        if state.startswith("chain "):
            raise CliError(
                f"{path} was written for {state} but {network} is chain {self.chain_id()}; "
                "check --network or redeploy with scripts/deploy.py force=yes"
            )
        if state == "stale":
            raise CliError(stale_message(path, network))
        try:
            system = deployment.load_deployment(self.containers(), network)
        except deployment.DeploymentError:
            raise
        except Exception as exc:  # e.g. brownie's ContractNotFound for a partly stale record
            raise CliError(
                f"{path} does not match the chain ({_one_line(str(exc))}); "
                "redeploy with scripts/deploy.py force=yes"
            ) from exc
        self._system = system
        return system

    # --- accounts

    def signer(self, spec: str | None = None, *, what: str = "the transactions") -> Any:
        spec = spec if spec is not None else getattr(self.args, "signer", None)
        if not spec:
            raise UsageError(f"say who signs {what} with --as WHO")
        return resolve_signer(spec, development=self.is_development)

    def address(self, spec: str, what: str = "account") -> str:
        return resolve_address(spec, development=self.is_development, what=what)

    # --- transactions

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Hide brownie's per-transaction printout unless --verbose.

        brownie 1.22's contract calls pass `silent=False` explicitly, so CONFIG.argv["silent"]
        (what `brownie run --silent` sets) does not reach them; we swallow stdout instead."""
        if getattr(self.args, "verbose", False):
            yield
            return
        with contextlib.redirect_stdout(io.StringIO()):
            yield

    def send(self, method: Any, *args: Any, signer: Any, what: str) -> Any:
        """Send one transaction; a revert becomes CliError naming what was being done."""
        try:
            with self.quiet():
                return method(*args, {"from": signer})
        except Exception as exc:
            if _is_revert(exc):
                raise CliError(f"{what} was refused by the ledger: {describe_revert(exc)}") from exc
            raise


def record_state(path: Path, chain_id: int) -> str:
    """'missing', 'unreadable', 'chain N' (another chain), 'stale' (no code) or 'live'."""
    if not path.exists():
        return "missing"
    try:
        record = json.loads(path.read_text())
        recorded_chain = record.get("chainId")
        addresses = list(record["contracts"].values())
    except (ValueError, KeyError, AttributeError, TypeError):
        return "unreadable"
    if recorded_chain is not None and int(recorded_chain) != int(chain_id):
        return f"chain {recorded_chain}"
    if not all(is_hex_address(str(a)) and has_code(str(a)) for a in addresses):
        return "stale"
    return "live"


def has_code(address: str) -> bool:
    from brownie import web3

    return len(web3.eth.get_code(address)) > 0


def stale_message(path: Path, network: str) -> str:
    hint = ""
    if network == "development":
        hint = (
            " (every `brownie run --network development` starts a fresh chain unless an anvil "
            "already listens on its port; see docs/operator-scripts.md)"
        )
    return (
        f"the contracts recorded in {path} are not on the {network} chain{hint}; "
        f"redeploy with `brownie run scripts/deploy.py main force=yes --network {network}`"
    )


def _stakeholder(spec: str) -> str | None:
    key = spec.strip().lower().replace("_", "-")
    key = _STAKEHOLDER_ALIASES.get(key, key)
    return key if key in STAKEHOLDERS else None


def _dev_accounts() -> Any:
    from brownie import accounts

    return accounts


def resolve_signer(spec: str, *, development: bool) -> Any:
    """A brownie account that can sign: see add_signer for the accepted forms."""
    spec = spec.strip()
    stakeholder = _stakeholder(spec)
    if development and not spec.endswith(".json"):
        accounts = _dev_accounts()
        if stakeholder is not None:
            return _dev_index(accounts, STAKEHOLDERS[stakeholder], f"--as {spec}")
        if spec.isdigit():
            return _dev_index(accounts, int(spec), f"--as {spec}")
        if is_hex_address(spec):
            address = _checked_address(spec, "signer")
            for account in accounts:
                if account.address == address:
                    return account
            raise CliError(
                f"{address} is not an account this node can sign for; use an account index "
                "0-19 or a keystore name"
            )
    elif spec.isdigit() or is_hex_address(spec):
        raise UsageError(
            f"--as {spec}: on a live network sign with a brownie keystore name or .json path "
            "(account indexes and bare addresses only work on development)"
        )
    return load_keystore(stakeholder or spec)


def _dev_index(accounts: Any, index: int, label: str) -> Any:
    if index >= len(accounts):
        raise UsageError(f"{label}: the development chain has accounts 0-{len(accounts) - 1}")
    return accounts[index]


def keystore_path(name: str) -> Path:
    candidate = Path(name).expanduser()
    if name.endswith(".json"):
        return candidate
    from brownie._config import _get_data_folder

    return _get_data_folder() / "accounts" / f"{name}.json"


def _password_env_names(name: str) -> list[str]:
    stem = re.sub(r"[^A-Z0-9]+", "_", Path(name).stem.upper()).strip("_")
    return [f"{PASSWORD_ENV}_{stem}", PASSWORD_ENV]


def load_keystore(name: str) -> Any:
    """Unlock a brownie keystore with the password from the environment (never printed)."""
    path = keystore_path(name)
    if not path.is_file():
        raise CliError(
            f"no keystore {name!r} ({path} missing): create it with `brownie accounts new "
            f"{Path(name).stem}` (or import a key with `brownie accounts import`), or on "
            "development pass an account index"
        )
    env_names = _password_env_names(name)
    password = next((os.environ[env] for env in env_names if os.environ.get(env)), None)
    if password is None and not sys.stdin.isatty():
        raise CliError(
            f"keystore {name!r} is locked: set {env_names[1]} (or {env_names[0]}) to its password"
        )
    from brownie import accounts

    try:
        return accounts.load(str(path), password=password)
    except ValueError:
        source = next((env for env in env_names if os.environ.get(env)), "the prompt")
        raise CliError(
            f"wrong password for keystore {name!r} (from {source}); check the variable"
        ) from None


def _checked_address(spec: str, what: str) -> str:
    if (
        spec[2:].lower() != spec[2:]
        and spec[2:].upper() != spec[2:]
        and not is_checksum_address(spec)
    ):
        raise UsageError(
            f"{what} {spec} has a bad checksum (mixed case that does not match): "
            "check for a typo, or write it all lower-case"
        )
    address = to_checksum_address(spec)
    if int(address, 16) == 0:
        raise UsageError(f"{what} is the zero address, which is not an account")
    return address


def resolve_address(spec: str, *, development: bool, what: str = "account") -> str:
    """An address from 0x…, or (development) a stakeholder name / index, or a keystore name."""
    spec = str(spec).strip()
    if spec.startswith(("0x", "0X")):
        if not is_hex_address(spec):
            raise UsageError(f"{what} {spec!r} is not an address (0x followed by 40 hex digits)")
        return _checked_address(spec, what)
    stakeholder = _stakeholder(spec)
    if development:
        accounts = _dev_accounts()
        if stakeholder is not None:
            return accounts[STAKEHOLDERS[stakeholder]].address
        if spec.isdigit():
            return _dev_index(accounts, int(spec), f"{what} {spec}").address
    path = keystore_path(stakeholder or spec) if re.fullmatch(r"[\w.\-/~]+", spec) else None
    if path is not None and path.is_file():
        try:
            return to_checksum_address(
                "0x" + json.loads(path.read_text())["address"].removeprefix("0x")
            )
        except (KeyError, ValueError):
            raise CliError(f"{path} is not a keystore file") from None
    forms = "0x followed by 40 hex digits"
    if development:
        forms += ", a stakeholder name, an account index 0-19"
    raise UsageError(f"{what} {spec!r} is not an address ({forms}, or a brownie keystore name)")


# ---------------------------------------------------------------------------- output helpers


def progress(items: Sequence[Any], label: str) -> Iterator[Any]:
    """A click progress bar on stdout for long loops (a plain pass-through for one item)."""
    if len(items) <= 1:
        yield from items
        return
    import click

    with click.progressbar(
        items, label=label, file=sys.stdout, show_pos=True, show_eta=False, width=30
    ) as bar:
        yield from bar


def table(rows: Iterable[Sequence[Any]], header: Sequence[str], right: Sequence[int] = ()) -> str:
    """A plain aligned text table; columns listed in `right` are right-aligned."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in body)
    return "\n".join(out)


def won(amount: int) -> str:
    return f"{int(amount):,}"


def epoch_label(epoch: int) -> str:
    """Statement epoch (year * 12 + month - 1) as YYYY-MM."""
    year, month = divmod(int(epoch), 12)
    return f"{year:04d}-{month + 1:02d}"


def compact_ids(ids: Sequence[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    runs: list[str] = []
    ordered = sorted(ids)
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[index], ordered[end]
        runs.append(str(first) if first == last else f"{first}-{last}")
        index = end + 1
    return ", ".join(runs)


# ---------------------------------------------------------------------------------- events


def scan_events(contract: Any, event: str, from_block: int = 0, chunk: int = 50_000) -> list[Any]:
    """Every `event` of `contract` from `from_block` to the head, in order (eth_getLogs, chunked)."""
    from brownie import web3

    head = int(web3.eth.block_number)
    found: list[Any] = []
    start = max(0, int(from_block))
    while start <= head:
        end = min(head, start + chunk - 1)
        found.extend(getattr(contract.events, event).get_logs(from_block=start, to_block=end))
        start = end + 1
    found.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    return found
