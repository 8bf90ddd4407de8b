"""The city (SIWE session, CITY_ADMIN on CityAccess): the policy parameters in force, read from
the contracts at one block (fees, shares, windows, quorum, heartbeat)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import LedgerDep
from api.errors import LedgerUnavailable
from api.schemas.staff import CityPolicyPublic
from api.siwe.deps import require_role
from api.siwe.store import StaffSession

router = APIRouter(prefix="/v1/city", tags=["city (SIWE)"])

CityAdminSession = Annotated[StaffSession, Depends(require_role("CITY_ADMIN"))]
CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT", "RESIDENT_PRIORITY", "PERSONAL")
PAYEES = ("OWNER", "VILLAGE_ENTERPRISE", "CITY_FUND", "PLATFORM")
LEASE_POLICY = (
    "freeCancelCutoff", "bookingGracePeriod", "lateCancelRefundBps", "overstayPenalty",
    "checkInEarly",
)  # fmt: skip


@router.get(
    "/policy",
    response_model=CityPolicyPublic,
    summary="Policy parameters in force on chain: lease rules, revenue splits, mobility fees, "
    "oracle quorum and heartbeat",
)
def policy(ledger: LedgerDep, _staff: CityAdminSession) -> CityPolicyPublic:
    block = ledger.head()
    c = ledger.contracts

    def read(key: str, name: str, *args: Any) -> Any:
        try:
            return getattr(c[key].functions, name)(*args).call(block_identifier=block)
        except Exception as exc:
            raise LedgerUnavailable(f"could not read {key}.{name} at block {block}") from exc

    splits = {}
    for index, category in enumerate(CATEGORIES):
        owner, village, city, platform, dust = read("split", "splitOf", index)
        splits[category] = {
            "ownerBps": owner, "villageBps": village, "cityBps": city, "platformBps": platform,
            "dustParty": PAYEES[dust],
        }  # fmt: skip
    return CityPolicyPublic(
        block=block,
        leaseMarket={
            **dict(zip(LEASE_POLICY, read("market", "policy"), strict=True)),
            "maxAdvanceSeconds": read("market", "maxAdvance"),
            "maxLeaseUnits": read("market", "maxLeaseUnits"),
        },
        revenueSplit={"splits": splits, "epoch": read("split", "currentEpoch")},
        tripSettlement={
            "disputeWindowSeconds": read("trips", "disputeWindow"),
            "tripTimeoutSeconds": read("trips", "tripTimeout"),
            "platformFeeBps": read("trips", "platformFeeBps"),
            "villageBps": read("trips", "villageBps"),
        },
        journeyClearing={
            "transferWindowSeconds": read("journeys", "transferWindow"),
            "discountBps": read("journeys", "discountBps"),
            "riderDailyCap": read("journeys", "riderDailyCap"),
            "subsidyPool": read("journeys", "pool"),
        },
        valetService={
            "valetFee": read("valet", "valetFee"),
            "workerBps": read("valet", "workerBps"),
        },
        occupancyOracle={
            "quorum": read("occupancy", "quorum"),
            "signers": len(read("occupancy", "signers")),
            "heartbeatSeconds": read("occupancy", "heartbeat"),
            "marginSeconds": read("occupancy", "margin"),
            "maxReportAgeSeconds": read("occupancy", "maxReportAge"),
            "maxClockSkewSeconds": read("occupancy", "maxClockSkew"),
        },
    )
