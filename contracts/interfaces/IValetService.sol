// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ValetRequest, ValetStatus} from "../types/MobilityTypes.sol";

/// @title IValetService
/// @notice Valet parking at the village's lots: a rider requests a valet for a window at a lot;
/// the service books a LeaseMarket lease on a free slot of that lot; a valet worker (village
/// enterprise staff with the VALET role) accepts, parks the car (check-in), and returns it on the
/// rider's call (check-out). The valet fee is split between the worker and the village enterprise.
interface IValetService {
    /// @notice A zero address was given where a contract is required.
    error ValetServiceZeroAddress();
    /// @notice A deployment parameter is out of its bounds.
    /// @param field the parameter's name
    error ValetServiceInvalidConfig(string field);
    /// @notice The account is not an active member.
    /// @param account the account
    error ValetServiceNotMember(address account);
    /// @notice No slots are registered for valet use at this lot.
    /// @param lotId the lot
    error ValetServiceUnknownLot(uint32 lotId);
    /// @notice Too many (or no) slots for one lot.
    /// @param count the number given
    error ValetServiceInvalidSlotList(uint256 count);
    /// @notice A time is not on a 30-minute boundary, or the start is not before the end.
    /// @param start the start given
    /// @param end the end given
    error ValetServiceInvalidWindow(uint256 start, uint256 end);
    /// @notice Every valet slot of the lot is taken (or closed) in the window.
    /// @param lotId the lot
    /// @param start the start given
    /// @param end the end given
    error ValetServiceNoFreeSlot(uint32 lotId, uint256 start, uint256 end);
    /// @notice Parking plus the valet fee exceeds the rider's maximum.
    /// @param total parking price plus valet fee
    /// @param maxTotal the maximum given
    error ValetServiceAboveMax(uint256 total, uint256 maxTotal);
    /// @notice No request has this id.
    /// @param requestId the id
    error ValetServiceUnknownRequest(uint256 requestId);
    /// @notice The request is not in a state that allows this action.
    /// @param requestId the request
    /// @param status its status
    error ValetServiceWrongStatus(uint256 requestId, ValetStatus status);
    /// @notice Only the request's rider may do this.
    /// @param requestId the request
    /// @param caller the caller
    error ValetServiceNotRider(uint256 requestId, address caller);
    /// @notice Only the worker who accepted the request may do this.
    /// @param requestId the request
    /// @param caller the caller
    error ValetServiceNotWorker(uint256 requestId, address caller);

    /// @notice CITY_ADMIN or an OPERATOR set the slots valets may use at a lot.
    event ValetLotSet(uint32 indexed lotId, uint256[] slotIds);
    /// @notice A rider requested a valet; lease `leaseId` holds a slot of the lot for the window.
    event ValetRequested(
        uint256 indexed requestId,
        address indexed rider,
        uint32 indexed lotId,
        uint256 leaseId,
        uint64 start,
        uint64 end,
        uint256 parkingPrice,
        uint256 fee
    );
    /// @notice A valet worker accepted the request.
    event ValetAccepted(uint256 indexed requestId, address indexed worker);
    /// @notice The worker parked the car (the lease is checked in).
    event ValetParked(uint256 indexed requestId, address indexed worker, uint256 leaseId);
    /// @notice The rider called for the car.
    event ValetReturnRequested(uint256 indexed requestId, address indexed rider);
    /// @notice The worker returned the car; the fee was split (the village enterprise takes the dust).
    event ValetReturned(
        uint256 indexed requestId, address indexed worker, uint256 fee, uint256 workerShare, uint256 villageShare
    );
    /// @notice The rider cancelled before the car was parked; `refund` went back to the rider.
    event ValetCancelled(uint256 indexed requestId, address indexed rider, uint256 refund);

    function setLotSlots(uint32 lotId, uint256[] calldata slotIds) external;
    function requestValet(uint32 lotId, uint64 start, uint64 end, uint256 maxTotal)
        external
        returns (uint256 requestId);
    function accept(uint256 requestId) external;
    function park(uint256 requestId) external;
    function requestReturn(uint256 requestId) external;
    function returnCar(uint256 requestId) external;
    function cancel(uint256 requestId) external;

    function requestOf(uint256 requestId) external view returns (ValetRequest memory);
    function lotSlots(uint32 lotId) external view returns (uint256[] memory);
}
