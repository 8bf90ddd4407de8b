// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {IValetService} from "../interfaces/IValetService.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {ValetRequest, ValetStatus} from "../types/MobilityTypes.sol";

/// @title ValetService
/// @notice Valet requests at the village's lots. The service is itself an active member of
/// CityAccess and a revenue-split source: it books the lease for the rider's window (paying the
/// parking price the rider handed over), checks it in and out, and pays the valet fee out to the
/// worker and the village enterprise through `RevenueSplit.allocateFare`.
/// @dev `requestValet` books before it records the lease id and emits, because the id comes from
/// the market; every contract it calls (credit, market, vault) is a fixed platform contract.
/// An overstay charge at the return is the lease market's: the service holds no credits, so the
/// market records it as that lease's debt.
contract ValetService is CityContext, IValetService {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_LOT_SLOTS = 32;

    IERC20 public immutable credit;
    ILeaseMarket public immutable market;
    IRevenueSplit public immutable vault;
    /// @notice The valet fee per request, in KRW.
    uint256 public immutable valetFee;
    /// @notice The worker's share of the fee, in basis points; the village enterprise takes the rest.
    uint256 public immutable workerBps;

    uint256 public requestCount;
    mapping(uint256 requestId => ValetRequest) private _requests;
    mapping(uint32 lotId => uint256[]) private _lotSlots;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        ILeaseMarket market_,
        IRevenueSplit vault_,
        address trustedForwarder,
        uint256 valetFee_,
        uint256 workerBps_
    ) CityContext(access_, trustedForwarder) {
        if (address(credit_) == address(0) || address(market_) == address(0) || address(vault_) == address(0)) {
            revert ValetServiceZeroAddress();
        }
        if (valetFee_ > type(uint48).max) revert ValetServiceInvalidConfig("valetFee");
        if (workerBps_ > BasisPoints.FULL) revert ValetServiceInvalidConfig("workerBps");
        credit = credit_;
        market = market_;
        vault = vault_;
        valetFee = valetFee_;
        workerBps = workerBps_;
        // The market pulls each lease's price from this contract, which holds it only for the call.
        credit_.approve(address(market_), type(uint256).max);
    }

    /// @inheritdoc IValetService
    function setLotSlots(uint32 lotId, uint256[] calldata slotIds) external onlyCityRole(CityRoles.OPERATOR) {
        if (slotIds.length == 0 || slotIds.length > MAX_LOT_SLOTS) revert ValetServiceInvalidSlotList(slotIds.length);
        if (keccak256(abi.encode(_lotSlots[lotId])) == keccak256(abi.encode(slotIds))) return;
        _lotSlots[lotId] = slotIds;
        emit ValetLotSet(lotId, slotIds);
    }

    /// @inheritdoc IValetService
    /// @dev The first slot of the lot the market would book for the window is taken.
    function requestValet(uint32 lotId, uint64 start, uint64 end, uint256 maxTotal)
        external
        returns (uint256 requestId)
    {
        address rider = _msgSender();
        if (!access.isActiveMember(rider)) revert ValetServiceNotMember(rider);
        if (start >= end || !HalfHours.isAligned(start) || !HalfHours.isAligned(end)) {
            revert ValetServiceInvalidWindow(start, end);
        }
        uint256[] storage candidates = _lotSlots[lotId];
        uint256 count = candidates.length;
        if (count == 0) revert ValetServiceUnknownLot(lotId);
        (bool found, uint256 slotId, uint256 price) = _freeSlot(candidates, count, start, end);
        if (!found) revert ValetServiceNoFreeSlot(lotId, start, end);
        uint256 fee = valetFee;
        if (price + fee > maxTotal) revert ValetServiceAboveMax(price + fee, maxTotal);
        requestId = ++requestCount;
        ValetRequest storage request = _requests[requestId];
        request.rider = rider;
        request.lotId = lotId;
        request.status = ValetStatus.REQUESTED;
        request.fee = uint48(fee);
        credit.safeTransferFrom(rider, address(this), price);
        if (fee != 0) credit.safeTransferFrom(rider, address(vault), fee);
        uint256 leaseId = market.book(slotId, start, end, price);
        request.leaseId = uint96(leaseId);
        emit ValetRequested(requestId, rider, lotId, leaseId, start, end, price, fee);
    }

    /// @inheritdoc IValetService
    function accept(uint256 requestId) external onlyCityRole(CityRoles.VALET) {
        ValetRequest storage request = _load(requestId, ValetStatus.REQUESTED);
        address worker = _msgSender();
        request.status = ValetStatus.ACCEPTED;
        request.worker = worker;
        emit ValetAccepted(requestId, worker);
    }

    /// @inheritdoc IValetService
    function park(uint256 requestId) external {
        ValetRequest storage request = _load(requestId, ValetStatus.ACCEPTED);
        address worker = _requireWorker(requestId, request);
        request.status = ValetStatus.PARKED;
        uint256 leaseId = request.leaseId;
        emit ValetParked(requestId, worker, leaseId);
        market.checkIn(leaseId);
    }

    /// @inheritdoc IValetService
    function requestReturn(uint256 requestId) external {
        ValetRequest storage request = _load(requestId, ValetStatus.PARKED);
        address rider = _requireRider(requestId, request);
        request.status = ValetStatus.RETURN_REQUESTED;
        emit ValetReturnRequested(requestId, rider);
    }

    /// @inheritdoc IValetService
    function returnCar(uint256 requestId) external {
        ValetRequest storage request = _load(requestId, ValetStatus.RETURN_REQUESTED);
        address worker = _requireWorker(requestId, request);
        uint256 fee = request.fee;
        uint256 workerShare = BasisPoints.share(fee, workerBps);
        uint256 villageShare = fee - workerShare;
        request.status = ValetStatus.RETURNED;
        emit ValetReturned(requestId, worker, fee, workerShare, villageShare);
        market.checkOut(request.leaseId);
        if (fee != 0) vault.creditFareShares(worker, workerShare, villageShare, 0);
    }

    /// @inheritdoc IValetService
    /// @dev Before the car is parked. The valet fee comes back in full, the parking price by the
    /// lease market's cancellation policy (which refuses once the lease has started). The event
    /// follows the market's cancel because the parking refund is only known from it.
    function cancel(uint256 requestId) external {
        ValetRequest storage request = _requests[requestId];
        ValetStatus status = request.status;
        if (status == ValetStatus.NONE) revert ValetServiceUnknownRequest(requestId);
        if (status != ValetStatus.REQUESTED && status != ValetStatus.ACCEPTED) {
            revert ValetServiceWrongStatus(requestId, status);
        }
        address rider = _requireRider(requestId, request);
        request.status = ValetStatus.CANCELLED;
        uint256 fee = request.fee;
        uint256 before = credit.balanceOf(address(this));
        market.cancel(request.leaseId);
        uint256 parkingRefund = credit.balanceOf(address(this)) - before;
        emit ValetCancelled(requestId, rider, parkingRefund + fee);
        if (parkingRefund != 0) credit.safeTransfer(rider, parkingRefund);
        if (fee != 0) vault.refund(rider, fee);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc IValetService
    function requestOf(uint256 requestId) external view returns (ValetRequest memory request) {
        request = _requests[requestId];
        if (request.status == ValetStatus.NONE) revert ValetServiceUnknownRequest(requestId);
    }

    /// @inheritdoc IValetService
    function lotSlots(uint32 lotId) external view returns (uint256[] memory) {
        return _lotSlots[lotId];
    }

    // ---------------------------------------------------------------------------- helpers

    function _freeSlot(uint256[] storage candidates, uint256 count, uint64 start, uint64 end)
        private
        view
        returns (bool found, uint256 slotId, uint256 price)
    {
        for (uint256 i = 0; i < count; ++i) {
            slotId = candidates[i];
            try market.quote(slotId, start, end) returns (uint256 quoted) {
                return (true, slotId, quoted);
            } catch {}
        }
        return (false, 0, 0);
    }

    function _load(uint256 requestId, ValetStatus expected) private view returns (ValetRequest storage request) {
        request = _requests[requestId];
        ValetStatus status = request.status;
        if (status == ValetStatus.NONE) revert ValetServiceUnknownRequest(requestId);
        if (status != expected) revert ValetServiceWrongStatus(requestId, status);
    }

    function _requireWorker(uint256 requestId, ValetRequest storage request) private view returns (address caller) {
        caller = _msgSender();
        if (caller != request.worker) revert ValetServiceNotWorker(requestId, caller);
    }

    function _requireRider(uint256 requestId, ValetRequest storage request) private view returns (address caller) {
        caller = _msgSender();
        if (caller != request.rider) revert ValetServiceNotRider(requestId, caller);
    }
}
