"""What the top-up and cash-out services share: the database, the settings, the treasury,
CityAccess for membership checks, and a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from api.payments.treasury import Treasury
from api.settings import Settings


class PaymentsService:
    def __init__(
        self, engine: Engine, settings: Settings, treasury: Treasury, access: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._settings = settings
        self._treasury = treasury
        self._access = access  # CityAccess web3 contract
        self._clock = clock

    @property
    def treasury_address(self) -> str:
        return self._treasury.address
