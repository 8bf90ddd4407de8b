"""Shared helpers of the indexer tests (tests/test_indexer*.py).

A REAL PostgreSQL 15 server started per test session (initdb into a temp dir, pg_ctl on a free
port), and the Sangsalmi scenario the tests index: slots, leases booked, cancelled, checked in
and out with an overstay, a claim, a suspension, all on a real ledger node (oracle_helpers).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citypass.core.net import free_port
from citypass.core.timeunits import local_day, next_weekday_midnight
from citypass.core.windows import EVERY_DAY, WEEKDAYS, Window
from citypass.protocol.deployment_record import CONTRACTS, Deployment
from tests.oracle_helpers import Chain

PG_BIN_DIRS = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/local/bin",
    "/usr/bin",
)
PG_SUPERUSER = "citypass"
HOUR = 3600
CENTER = (37.503, 126.787)
PERSONAL, PRIVATE_LOT = 3, 1


# ------------------------------------------------------------------------------ PostgreSQL


def _pg_tool(name: str) -> str:
    for directory in PG_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(
        f"PostgreSQL server binary {name!r} not found: install the server "
        "(`apt-get install postgresql`) to run the PostgreSQL indexer tests"
    )


@dataclass
class PostgresServer:
    """A throwaway cluster: trust authentication on 127.0.0.1 only, removed by stop()."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="citypass-pg-")))
    port: int = 0
    _run_as: list[str] = field(default_factory=list)
    _databases: int = 0

    def start(self) -> PostgresServer:
        initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
        # initdb and postgres refuse to run as root: run them as an unprivileged account.
        if os.geteuid() == 0:
            account = _unprivileged_account()
            os.chmod(self.base, 0o700)
            shutil.chown(self.base, account.pw_uid, account.pw_gid)
            self._run_as = ["runuser", "-u", account.pw_name, "--"]
        self.port = free_port()
        data = self.base / "data"
        self._run(
            [initdb, "-D", str(data), "-U", PG_SUPERUSER, "--auth=trust", "-E", "UTF8",
             "--no-locale", "--no-sync"]
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(self.base / "pg.log"), "-w", "start"]
        )
        return self

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        self._databases += 1
        name = f"readmodel_{self._databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name, driver="postgresql+psycopg")

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        data = self.base / "data"
        if (data / "postmaster.pid").exists():
            self._run([_pg_tool("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.base, ignore_errors=True)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            [*self._run_as, *command], capture_output=True, text=True, timeout=120, cwd=self.base
        )
        if result.returncode != 0:
            log = self.base / "pg.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {result.stderr.strip()}\n{tail}")


DATABASES = ("sqlite", "postgresql")
_POSTGRES: list[PostgresServer] = []


def shared_postgres(config: Any) -> PostgresServer:
    """This test process's one PostgreSQL server, started on first use and stopped at the end of
    the session (`config` is pytest's); every read model gets a database of its own on it."""
    if not _POSTGRES:
        server = PostgresServer().start()
        _POSTGRES.append(server)
        config.add_cleanup(server.stop)
    return _POSTGRES[0]


def read_model_url(database: str, base: Path, config: Any) -> str:
    """A fresh, empty read model of kind `database` (one of DATABASES)."""
    if database == "sqlite":
        return f"sqlite:///{base / 'readmodel.db'}"
    if database == "postgresql":
        return shared_postgres(config).new_database()
    raise ValueError(f"unknown read-model database {database!r}: use one of {DATABASES}")


_SESSION_WORLDS: dict[tuple[str, str], Any] = {}


def session_world(
    kind: str,
    database: str,
    request: Any,
    start: Callable[[Path, str], Any],
    stop: Callable[[Any], None],
) -> Any:
    """One world of `kind` per read-model database in this test process, however many test
    modules ask for it: `start(base directory, read-model URL)` builds it on first use and
    `stop(world)` ends it with the session (`request` is pytest's)."""
    key = (kind, database)
    if key not in _SESSION_WORLDS:
        base = request.getfixturevalue("tmp_path_factory").mktemp(f"{kind}-world-{database}")
        built = start(base, read_model_url(database, base, request.config))
        _SESSION_WORLDS[key] = built
        request.config.add_cleanup(lambda: stop(built))
    return _SESSION_WORLDS[key]


def write_deployment(chain: Chain, path: Path) -> Path:
    """The indexer's deployment file for the contracts of `chain`, written at `path`."""
    addresses = {key: getattr(chain.system, key).address for key in CONTRACTS}
    return Deployment(chain.chain_id, addresses).write(path)


def _unprivileged_account() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        "running as root and no 'postgres' or 'nobody' account exists for initdb: "
        "`apt-get install postgresql` creates one (or run the tests as a normal user)"
    )


# ------------------------------------------------------------------------------- scenario


@dataclass
class Scenario:
    """What happened on chain, with the values the read model must show."""

    chain: Chain
    monday: int = 0  # 00:00 KST of the scenario's Monday
    owner: Any = None
    lessee: Any = None
    suspended: Any = None
    slots: dict[str, int] = field(default_factory=dict)
    leases: dict[str, int] = field(default_factory=dict)
    claimed: int = 0

    def at(self, day: int, hour: float) -> int:
        return self.monday + day * 86400 + int(hour * HOUR)


def build_scenario(chain: Chain) -> Scenario:
    """Monday 08:00 KST: five slots around CENTER, three leases, a claim and a suspension."""
    s = Scenario(chain)
    system, people = chain.system, chain.people
    s.monday = next_weekday_midnight(chain.head_time() + HOUR, 0)
    chain.set_clock(s.at(0, 8))
    s.owner = chain.resident()
    s.lessee = chain.resident(credit=100_000)
    s.suspended = chain.new_member()
    system.access.suspend(
        s.suspended.address, b"fraud-check".ljust(32, b"\0"), {"from": people.admin}
    )

    def slot(
        name: str, dlat: float, dlon: float, windows: list[Window], category: int = PERSONAL
    ) -> int:
        slots = chain.contract("slots")
        slot_id = slots.functions.slotCount().call() + 1
        lat, lon = round((CENTER[0] + dlat) * 1e6), round((CENTER[1] + dlon) * 1e6)
        system.slots.registerSlot(s.owner.address, category, 7, lat, lon, {"from": people.operator})
        system.slots.setWindows(slot_id, [w.as_tuple() for w in windows], {"from": s.owner})
        s.slots[name] = slot_id
        return slot_id

    all_day = [Window(EVERY_DAY, 0, 48)]
    slot("A", 0, 0, all_day)
    slot("B", 0.001, 0, all_day)  # 111.2 m north, blacked out on Monday
    slot("C", 0, 0.002, [Window.hours(WEEKDAYS, "09:00", "18:00")], PRIVATE_LOT)  # 176.4 m east
    slot("D", 0.01, 0, all_day)  # 1.11 km north
    slot("E", -0.001, 0, all_day)  # withdrawn
    system.slots.setBlackout(s.slots["B"], local_day(s.monday), True, {"from": s.owner})
    system.slots.setTerms(s.slots["C"], 1000, 300, {"from": s.owner})
    system.slots.setActive(s.slots["E"], False, {"from": s.owner})

    s.leases["booked"] = chain.book(s.lessee, s.slots["A"], s.at(0, 10), s.at(0, 12))
    s.leases["cancelled"] = chain.book(s.lessee, s.slots["A"], s.at(1, 20), s.at(1, 21))
    system.market.cancel(s.leases["cancelled"], {"from": s.lessee})
    s.leases["settled"] = chain.book(s.lessee, s.slots["A"], s.at(0, 8), s.at(0, 9))
    system.market.checkIn(s.leases["settled"], {"from": s.lessee})
    chain.set_clock(s.at(0, 9.25))  # 15 minutes over: two started 10-minute steps
    system.market.checkOut(s.leases["settled"], {"from": s.lessee})
    receipt = system.split.claim({"from": s.owner})
    split = chain.contract("split")
    s.claimed = int(split.events.Claimed().process_receipt(receipt)[0]["args"]["amount"])
    return s
