// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IIncidentRegistry} from "../interfaces/IIncidentRegistry.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IOccupancyOracle} from "../interfaces/IOccupancyOracle.sol";
import {IParkingSlots} from "../interfaces/IParkingSlots.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {LeaseIds} from "../libraries/LeaseIds.sol";
import {OccupancyBits} from "../libraries/OccupancyBits.sol";
import {Lease, LeaseStatus} from "../types/ParkingTypes.sol";
import {IncidentInput, IncidentType, OccupancyReport, SlotOccupancy} from "../types/SensorTypes.sol";

/// @title OccupancyOracle
/// @notice One bit per slot, written by sequenced reports that ORACLE accounts submit and m of
/// n registered signers co-sign (EIP-712). Changes on market slots drive the lease market:
/// arrival checks the current (or the next half-hour's) lease in, departure checks it out and
/// settles with overstay, and arrival on a slot open for sharing without a lease files an
/// UNAUTHORISED_OCCUPANCY incident. Market calls never make a report fail.
contract OccupancyOracle is CityAccessControlled, EIP712, IOccupancyOracle {
    using EnumerableSet for EnumerableSet.AddressSet;
    using OccupancyBits for OccupancyBits.SeenRing;

    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "OccupancyReport(uint64 sequence,uint64 observedAt,uint256[] wordIndexes,uint256[] masks,uint256[] values)"
    );
    uint256 public constant MAX_SLOT_ID = OccupancyBits.MAX_SLOT_ID;
    uint256 public constant MAX_REPORT_WORDS = OccupancyBits.MAX_REPORT_WORDS;
    /// @dev A sensor-derived incident is certain: the occupancy bit is the evidence.
    uint16 private constant SENSOR_CONFIDENCE_BPS = uint16(BasisPoints.FULL);

    IIncidentRegistry public immutable incidents;
    ILeaseMarket public immutable market;
    IParkingSlots public immutable slots;
    uint256 private immutable _heartbeat;
    uint256 private immutable _margin;
    /// @notice Reports observed longer ago than this are refused as stale.
    uint256 public immutable maxReportAge;
    /// @notice How far past the block time a report's observedAt may lie.
    uint256 public immutable maxClockSkew;

    /// @dev Read and written once per report, so kept in one storage word.
    struct ReportState {
        uint64 lastSequence;
        uint64 lastObservedAt;
        uint64 quorum;
    }

    ReportState private _state;
    EnumerableSet.AddressSet private _signers;
    mapping(uint256 wordIndex => uint256) private _occupancy;
    mapping(uint256 wordIndex => OccupancyBits.SeenRing) private _seen;
    mapping(uint256 wordIndex => uint256) private _marketMask;
    /// @dev The lease a report checked in (or found checked in) on the slot, to check out on departure
    /// even after the lease's end, when the market no longer names it as current.
    mapping(uint256 slotId => uint256 leaseId) private _parkedLease;

    constructor(
        ICityAccess access_,
        IIncidentRegistry incidents_,
        ILeaseMarket market_,
        IParkingSlots slots_,
        address initialSigner,
        uint256 heartbeat_,
        uint256 margin_,
        uint256 maxReportAge_,
        uint256 maxClockSkew_
    ) CityAccessControlled(access_) EIP712("CityPass OccupancyOracle", "1") {
        if (
            address(incidents_) == address(0) || address(market_) == address(0) || address(slots_) == address(0)
                || initialSigner == address(0)
        ) revert OccupancyOracleZeroAddress();
        // The freshness ring must hold every bucket of the window (heartbeat + 2 margins) plus one
        // bucket of clock skew; see occupancyOf.
        if (
            margin_ < OccupancyBits.MIN_BUCKET_WIDTH || heartbeat_ == 0 || heartbeat_ % margin_ != 0
                || heartbeat_ / margin_ + 3 > OccupancyBits.RING_SIZE || maxClockSkew_ > margin_ || maxReportAge_ == 0
        ) revert OccupancyOracleInvalidConfig();
        incidents = incidents_;
        market = market_;
        slots = slots_;
        _heartbeat = heartbeat_;
        _margin = margin_;
        maxReportAge = maxReportAge_;
        maxClockSkew = maxClockSkew_;
        _signers.add(initialSigner);
        _state.quorum = 1;
        emit SignerSet(initialSigner, true);
        emit QuorumSet(1);
    }

    // ---------------------------------------------------------------------------- reports

    /// @inheritdoc IOccupancyOracle
    /// @dev `signatures` must come from distinct registered signers, sorted by signer address
    /// ascending (citypass.occupancy_report.sign_report_quorum orders them).
    function submitReport(OccupancyReport calldata report, bytes[] calldata signatures)
        external
        onlyCityRole(CityRoles.ORACLE)
    {
        ReportState memory state = _state;
        _checkReport(report, state);
        bytes32 digest = reportDigest(report);
        _checkSignatures(digest, signatures, state.quorum);
        _state = ReportState(report.sequence, report.observedAt, state.quorum);
        (uint256 observed, uint256 changed, uint256[] memory marketFlips, bool anyMarket) = _apply(report);
        emit OccupancyReported(report.sequence, report.observedAt, report.wordIndexes.length, observed, changed, digest);
        if (anyMarket) _driveMarket(report, marketFlips, digest);
    }

    /// @inheritdoc IOccupancyOracle
    function reportDigest(OccupancyReport calldata report) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REPORT_TYPEHASH,
                    report.sequence,
                    report.observedAt,
                    keccak256(abi.encodePacked(report.wordIndexes)),
                    keccak256(abi.encodePacked(report.masks)),
                    keccak256(abi.encodePacked(report.values))
                )
            )
        );
    }

    function _checkReport(OccupancyReport calldata report, ReportState memory state) private view {
        if (report.sequence <= state.lastSequence) {
            revert OccupancyOracleDuplicateReport(report.sequence, state.lastSequence);
        }
        if (report.sequence != state.lastSequence + 1) {
            revert OccupancyOracleOutOfOrder(report.sequence, state.lastSequence + 1);
        }
        uint256 notBefore = block.timestamp > maxReportAge ? block.timestamp - maxReportAge : 0;
        if (state.lastObservedAt > notBefore) notBefore = state.lastObservedAt;
        if (report.observedAt < notBefore) revert OccupancyOracleStaleReport(report.observedAt, uint64(notBefore));
        if (report.observedAt > block.timestamp + maxClockSkew) {
            revert OccupancyOracleFutureReport(report.observedAt, uint64(block.timestamp + maxClockSkew));
        }
        uint256 words = report.wordIndexes.length;
        if (words == 0 || words > MAX_REPORT_WORDS || report.masks.length != words || report.values.length != words)
        {
            revert OccupancyOracleMalformedReport(words, report.masks.length, report.values.length);
        }
        uint256 previous;
        for (uint256 i = 0; i < words; ++i) {
            uint256 word = report.wordIndexes[i];
            if (word >= OccupancyBits.WORD_COUNT || (i != 0 && word <= previous)) revert OccupancyOracleInvalidWord(word);
            if (report.values[i] & ~report.masks[i] != 0) revert OccupancyOracleValueOutsideMask(word);
            previous = word;
        }
        // Slot 0 does not exist (ids start at 1).
        if (report.wordIndexes[0] == 0 && report.masks[0] & 1 == 1) revert OccupancyOracleInvalidSlot(0);
    }

    function _checkSignatures(bytes32 digest, bytes[] calldata signatures, uint256 quorum_) private view {
        address previous;
        for (uint256 i = 0; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            // Ascending order makes "distinct" a single comparison.
            if (err != ECDSA.RecoverError.NoError || signer <= previous || !_signers.contains(signer)) {
                revert OccupancyOracleInvalidSignature(i);
            }
            previous = signer;
        }
        if (signatures.length < quorum_) revert OccupancyOracleQuorumNotMet(signatures.length, quorum_);
    }

    /// @dev Writes the bitmap and the seen ring; returns the market slots that flipped per word.
    function _apply(OccupancyReport calldata report)
        private
        returns (uint256 observed, uint256 changed, uint256[] memory marketFlips, bool anyMarket)
    {
        uint256 words = report.wordIndexes.length;
        uint256 bucket = report.observedAt / _margin;
        marketFlips = new uint256[](words);
        for (uint256 i = 0; i < words; ++i) {
            uint256 word = report.wordIndexes[i];
            uint256 mask = report.masks[i];
            uint256 old = _occupancy[word];
            uint256 updated = (old & ~mask) | report.values[i];
            uint256 flipped = old ^ updated;
            if (flipped != 0) {
                _occupancy[word] = updated;
                changed += OccupancyBits.popcount(flipped);
                uint256 flippedMarket = flipped & _marketMask[word];
                if (flippedMarket != 0) {
                    marketFlips[i] = flippedMarket;
                    anyMarket = true;
                }
            }
            observed += OccupancyBits.popcount(mask);
            _seen[word].markSeen(bucket, mask);
        }
    }

    // ------------------------------------------------------------------ market driving

    function _driveMarket(OccupancyReport calldata report, uint256[] memory marketFlips, bytes32 digest) private {
        for (uint256 i = 0; i < marketFlips.length; ++i) {
            uint256 bits = marketFlips[i];
            if (bits == 0) continue;
            uint256 word = report.wordIndexes[i];
            uint256 value = report.values[i];
            while (bits != 0) {
                uint256 bit = OccupancyBits.lowestBit(bits);
                bits &= bits - 1;
                uint256 slotId = (word << 8) | bit;
                bool occupied = (value >> bit) & 1 == 1;
                emit SlotOccupancyChanged(slotId, occupied, report.observedAt);
                if (occupied) _arrive(slotId, report.observedAt, digest);
                else _depart(slotId);
            }
        }
    }

    /// @dev Check in the lease holding the slot now, or the one starting at the next half-hour
    /// (an early arrival; the market decides whether it is early enough). With no lease, an
    /// arrival while the slot is open for sharing is unauthorised occupancy; outside the sharing
    /// windows it is the owner using their own space.
    function _arrive(uint256 slotId, uint64 observedAt, bytes32 digest) private {
        uint256 leaseId = market.currentLeaseId(slotId);
        LeaseStatus status;
        if (leaseId != 0) {
            status = market.leaseOf(leaseId).status;
        } else {
            uint256 candidate = LeaseIds.id(LeaseIds.key(slotId, HalfHours.toUnit(block.timestamp) + 1), 0);
            try market.leaseOf(candidate) returns (Lease memory lease) {
                if (lease.status == LeaseStatus.BOOKED) (leaseId, status) = (candidate, LeaseStatus.BOOKED);
            } catch {}
        }
        if (status == LeaseStatus.CHECKED_IN) {
            _parkedLease[slotId] = leaseId;
        } else if (status == LeaseStatus.BOOKED) {
            try market.checkIn(leaseId) {
                _parkedLease[slotId] = leaseId;
                emit LeaseDriven(slotId, leaseId, true);
            } catch (bytes memory reason) {
                emit LeaseDriveFailed(slotId, leaseId, bytes4(reason));
            }
        } else if (slots.isOpenAt(slotId, block.timestamp)) {
            _fileUnauthorised(slotId, observedAt, digest);
        }
    }

    function _depart(uint256 slotId) private {
        uint256 leaseId = _parkedLease[slotId];
        if (leaseId == 0) {
            // Checked in by hand (the lessee's app) while the sensor already saw the car.
            uint256 current = market.currentLeaseId(slotId);
            if (current == 0 || market.leaseOf(current).status != LeaseStatus.CHECKED_IN) return;
            leaseId = current;
        } else {
            delete _parkedLease[slotId];
        }
        try market.checkOut(leaseId) {
            emit LeaseDriven(slotId, leaseId, false);
        } catch (bytes memory reason) {
            emit LeaseDriveFailed(slotId, leaseId, bytes4(reason));
        }
    }

    function _fileUnauthorised(uint256 slotId, uint64 observedAt, bytes32 digest) private {
        (, int32 latE6, int32 lonE6) = slots.placeOf(slotId);
        IncidentInput memory input = IncidentInput({
            kind: IncidentType.UNAUTHORISED_OCCUPANCY,
            slotId: slotId,
            latE6: latE6,
            lonE6: lonE6,
            observedAt: observedAt,
            confidenceBps: SENSOR_CONFIDENCE_BPS,
            sourceEventId: keccak256(abi.encode(digest, slotId)),
            contentHash: digest,
            evidenceCid: ""
        });
        try incidents.reportIncident(input) {}
        catch (bytes memory reason) {
            emit IncidentFilingFailed(slotId, bytes4(reason));
        }
    }

    // --------------------------------------------------------------------- administration

    /// @inheritdoc IOccupancyOracle
    function setSigner(address signer, bool registered) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (signer == address(0)) revert OccupancyOracleZeroAddress();
        bool changedSet = registered ? _signers.add(signer) : _signers.remove(signer);
        if (!changedSet) revert OccupancyOracleSignerUnchanged(signer, registered);
        uint256 count = _signers.length();
        if (_state.quorum > count) revert OccupancyOracleInvalidQuorum(_state.quorum, count);
        emit SignerSet(signer, registered);
    }

    /// @inheritdoc IOccupancyOracle
    function setQuorum(uint256 quorum_) external onlyCityRole(CityRoles.CITY_ADMIN) {
        uint256 count = _signers.length();
        if (quorum_ == 0 || quorum_ > count) revert OccupancyOracleInvalidQuorum(quorum_, count);
        if (_state.quorum == quorum_) return;
        _state.quorum = uint64(quorum_);
        emit QuorumSet(quorum_);
    }

    /// @inheritdoc IOccupancyOracle
    /// @dev `mask` replaces the word's market flags (bit b of word w is slot w * 256 + b).
    function setMarketSlots(uint256 wordIndex, uint256 mask) external onlyCityRole(CityRoles.OPERATOR) {
        if (wordIndex >= OccupancyBits.WORD_COUNT) revert OccupancyOracleInvalidWord(wordIndex);
        if (wordIndex == 0 && mask & 1 == 1) revert OccupancyOracleInvalidSlot(0);
        if (_marketMask[wordIndex] == mask) return;
        _marketMask[wordIndex] = mask;
        emit MarketSlotsSet(wordIndex, mask);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc IOccupancyOracle
    /// @dev Freshness is kept per bucket of `margin` seconds: a slot reads UNKNOWN once
    /// block.timestamp ≥ start of its last observed bucket + heartbeat + 2 × margin, i.e. between
    /// heartbeat + margin and heartbeat + 2 × margin after its last observation (never sooner
    /// than heartbeat + margin), and when it was never observed.
    function occupancyOf(uint256 slotId) external view returns (SlotOccupancy) {
        uint256 seenAt = _lastSeen(slotId);
        if (seenAt == 0 || block.timestamp >= seenAt + _heartbeat + 2 * _margin) return SlotOccupancy.UNKNOWN;
        return (_occupancy[slotId >> 8] >> (slotId & 255)) & 1 == 1 ? SlotOccupancy.OCCUPIED : SlotOccupancy.FREE;
    }

    /// @inheritdoc IOccupancyOracle
    /// @dev The start of the `margin`-wide bucket in which the slot was last observed; 0 if never
    /// (or so long ago that the freshness ring no longer holds it).
    function lastSeenOf(uint256 slotId) external view returns (uint64) {
        return uint64(_lastSeen(slotId));
    }

    /// @inheritdoc IOccupancyOracle
    function occupancyWord(uint256 wordIndex) external view returns (uint256) {
        return _occupancy[wordIndex];
    }

    /// @notice The market-slot flags of one word.
    function marketSlots(uint256 wordIndex) external view returns (uint256) {
        return _marketMask[wordIndex];
    }

    /// @notice The lease a report checked in on the slot and will check out on departure (0 if none).
    function parkedLeaseOf(uint256 slotId) external view returns (uint256) {
        return _parkedLease[slotId];
    }

    /// @inheritdoc IOccupancyOracle
    function lastSequence() external view returns (uint64) {
        return _state.lastSequence;
    }

    /// @inheritdoc IOccupancyOracle
    function lastObservedAt() external view returns (uint64) {
        return _state.lastObservedAt;
    }

    /// @inheritdoc IOccupancyOracle
    function quorum() external view returns (uint256) {
        return _state.quorum;
    }

    /// @inheritdoc IOccupancyOracle
    function signers() external view returns (address[] memory) {
        return _signers.values();
    }

    /// @inheritdoc IOccupancyOracle
    function heartbeat() external view returns (uint256) {
        return _heartbeat;
    }

    /// @inheritdoc IOccupancyOracle
    function margin() external view returns (uint256) {
        return _margin;
    }

    /// @notice The EIP-712 domain separator (chain and this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _lastSeen(uint256 slotId) private view returns (uint256) {
        if (slotId == 0 || slotId > MAX_SLOT_ID) revert OccupancyOracleInvalidSlot(slotId);
        return _seen[slotId >> 8].lastSeenBucket(slotId & 255) * _margin;
    }
}
