"""The trip read model through a dispute: TripSettlement's events, in the order the chain emits
them, applied by the real handlers to a real SQLite read model (the chain side of the same flow
is tests/contracts/test_trip_settlement.py; the relayed end-to-end trip is in tests/api/test_api_roles.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from citypass.core.timeunits import local_day
from indexer import models_mobility as mm
from indexer.db import make_engine
from indexer.handler_base import LogContext
from indexer.handlers import HANDLERS

RIDER = "0x" + "a1" * 20
OPERATOR = "0x" + "b2" * 20
HOUSE = "0x" + "c3" * 20
MORNING = 1772409600  # 2026-03-02 09:00 KST
DAY = local_day(MORNING)
HOUR = 3600


@pytest.fixture
def session(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    with Session(engine) as s:
        yield s
    engine.dispose()


def emit(s: Session, at: int, event: str, **args: Any) -> None:
    ctx = LogContext(at // 10, at, "0x" + "00" * 32, 0, HOUSE, HOUSE, HOUSE)
    HANDLERS[("TripSettlement", event)](s, ctx, args)
    s.flush()


def start(s: Session, at: int, trip_id: int, deposit: int) -> None:
    emit(
        s, at, "TripStarted", tripId=trip_id, rider=RIDER, operator=OPERATOR, assetId=trip_id,
        planId=1, deposit=deposit,
    )  # fmt: skip


def end(s: Session, at: int, trip_id: int, fare: int, refund: int) -> None:
    emit(
        s, at, "TripEnded", tripId=trip_id, rider=RIDER, operator=OPERATOR, endedAt=at - 60,
        distanceMeters=900, fare=fare, forced=False, riderRefund=refund,
    )  # fmt: skip


def balance(s: Session) -> int:
    return s.get(mm.RiderDepositBalance, RIDER).balance


def test_end_dispute_resolution_release_and_withdrawal(session: Session):
    s = session
    start(s, MORNING, 1, 5000)
    start(s, MORNING + 60, 2, 5000)
    end(s, MORNING + HOUR, 1, 1500, 3500)
    end(s, MORNING + 2 * HOUR, 2, 2000, 3000)
    one, two = s.get(mm.Trip, 1), s.get(mm.Trip, 2)
    assert (one.status, one.booked_day, one.closed_at, one.rider_refund) == (
        "ENDED", DAY, MORNING + HOUR, 3500,
    )  # fmt: skip
    assert balance(s) == 3500 + 3000

    emit(s, MORNING + 3 * HOUR, "TripDisputed", tripId=2, rider=RIDER, day=DAY)
    assert (two.status, two.booked_day) == ("DISPUTED", None)
    # The next deposit is drawn from the balance first.
    start(s, MORNING + 4 * HOUR, 3, 5000)
    assert balance(s) == 6500 - 5000

    tomorrow = MORNING + 24 * HOUR
    emit(
        s, tomorrow, "DisputeResolved", tripId=2, inspector=HOUSE, day=DAY + 1, refund=500,
        fare=1500, operatorShare=1300, villageShare=120, platformFee=80,
    )  # fmt: skip
    assert (two.status, two.fare, two.dispute_refund, two.booked_day) == (
        "SETTLED", 1500, 500, DAY + 1,
    )  # fmt: skip
    assert (two.operator_share, two.village_share, two.platform_fee) == (1300, 120, 80)
    assert balance(s) == 1500 + 500

    # Releasing day D settles the trips still booked on it, and only those.
    emit(
        s, tomorrow + HOUR, "DayReleased", operator=OPERATOR, day=DAY, legs=1, gross=1500,
        operatorShare=1350, villageShare=90, platformFee=60,
    )  # fmt: skip
    assert (one.status, two.status, s.get(mm.Trip, 3).status) == ("SETTLED", "SETTLED", "OPEN")
    [release] = s.query(mm.DayRelease).all()
    assert (release.day, release.legs, release.gross, release.operator_share) == (
        DAY, 1, 1500, 1350,
    )  # fmt: skip

    emit(s, tomorrow + 2 * HOUR, "DepositWithdrawn", rider=RIDER, amount=2000)
    assert balance(s) == 0
