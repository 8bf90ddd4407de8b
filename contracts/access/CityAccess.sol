// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {CityRoles} from "./CityRoles.sol";

/// @title CityAccess
/// @notice Membership and roles. Accounts are members (onboarded residents, owners, staff) and/or
/// role holders; any of them can be suspended, which blocks every transaction they send.
/// @dev Role grants are mirrored into a per-account bitmask next to the member status, so
/// `transactionAllowed` and `isAllowed` answer from one storage word.
contract CityAccess is AccessControl, ICityAccess {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice The most witnesses the set holds: `witnesses()` and the node read it whole.
    uint256 public constant MAX_WITNESSES = 16;

    struct Member {
        MemberStatus status;
        uint32 roleBits;
        uint40 since;
    }

    mapping(address account => Member) private _members;
    EnumerableSet.AddressSet private _witnesses;
    mapping(address witness => bytes32 name) private _witnessNames;
    /// @inheritdoc ICityAccess
    address public membershipListener;

    constructor(address cityAdmin) {
        if (cityAdmin == address(0)) revert CityAccessZeroAddress();
        bytes32[9] memory roles = _roles();
        for (uint256 i = 0; i < roles.length; ++i) {
            _setRoleAdmin(roles[i], CityRoles.CITY_ADMIN);
        }
        _grantRole(CityRoles.CITY_ADMIN, cityAdmin);
    }

    /// @notice Onboard `account` as an active member. CITY_ADMIN or OPERATOR.
    function onboard(address account) external {
        _checkAnyRole(CityRoles.OPERATOR);
        _onboard(account);
    }

    /// @notice Suspend `account`; every transaction it sends is refused until reinstated.
    /// @param reason an opaque code (never personal data)
    function suspend(address account, bytes32 reason) external {
        _checkAnyRole(CityRoles.OPERATOR);
        _suspend(account, reason);
    }

    /// @notice Lift a suspension.
    function reinstate(address account) external {
        _checkAnyRole(CityRoles.OPERATOR);
        _reinstate(account);
    }

    /// @inheritdoc ICityAccess
    function setMembershipListener(address listener) external onlyRole(CityRoles.CITY_ADMIN) {
        if (listener == address(0)) revert CityAccessZeroAddress();
        if (membershipListener != address(0)) revert CityAccessListenerAlreadySet();
        membershipListener = listener;
        emit MembershipListenerSet(listener);
    }

    /// @inheritdoc ICityAccess
    function setWitness(address witness, bytes32 name) external onlyRole(CityRoles.CITY_ADMIN) {
        if (witness == address(0)) revert CityAccessZeroAddress();
        if (name == bytes32(0)) revert CityAccessWitnessNameRequired();
        if (_witnesses.add(witness) && _witnesses.length() > MAX_WITNESSES) {
            revert CityAccessTooManyWitnesses(MAX_WITNESSES);
        }
        _witnessNames[witness] = name;
        emit WitnessSet(witness, name);
    }

    /// @inheritdoc ICityAccess
    function removeWitness(address witness) external onlyRole(CityRoles.CITY_ADMIN) {
        if (!_witnesses.remove(witness)) revert CityAccessNotWitness(witness);
        delete _witnessNames[witness];
        emit WitnessRemoved(witness);
    }

    /// @inheritdoc ICityAccess
    function isWitness(address account) external view returns (bool) {
        return _witnesses.contains(account);
    }

    /// @inheritdoc ICityAccess
    function witnessName(address account) external view returns (bytes32) {
        return _witnessNames[account];
    }

    /// @inheritdoc ICityAccess
    function witnesses() external view returns (address[] memory accounts, bytes32[] memory names) {
        accounts = _witnesses.values();
        names = new bytes32[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            names[i] = _witnessNames[accounts[i]];
        }
    }

    /// @inheritdoc ICityAccess
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].status == MemberStatus.ACTIVE;
    }

    /// @inheritdoc ICityAccess
    function isAllowed(address account) public view returns (bool) {
        Member memory member = _members[account];
        return member.status == MemberStatus.ACTIVE || (member.status == MemberStatus.NONE && member.roleBits != 0);
    }

    /// @inheritdoc ICityAccess
    function memberStatus(address account) external view returns (MemberStatus) {
        return _members[account].status;
    }

    /// @notice The account's roles as a bitmask in CityRoles order (CITY_ADMIN = bit 0).
    function roleBitsOf(address account) external view returns (uint32) {
        return _members[account].roleBits;
    }

    /// @notice When the account was onboarded (0 for role-only accounts).
    function memberSince(address account) external view returns (uint40) {
        return _members[account].since;
    }

    /// @inheritdoc ICityAccess
    /// @dev The payload and target are not used yet: any allowed account may call any contract,
    /// and each contract checks roles itself. The signature matches Besu's account permissioning.
    function transactionAllowed(address sender, address, uint256, uint256, uint256, bytes calldata)
        external
        view
        returns (bool)
    {
        return isAllowed(sender);
    }

    /// @inheritdoc ICityAccess
    function hasActiveRole(bytes32 role, address account) external view returns (bool) {
        return _members[account].status != MemberStatus.SUSPENDED && super.hasRole(role, account);
    }

    /// @inheritdoc AccessControl
    function hasRole(bytes32 role, address account)
        public
        view
        override(AccessControl, ICityAccess)
        returns (bool)
    {
        return super.hasRole(role, account);
    }

    function _onboard(address account) internal {
        if (account == address(0)) revert CityAccessZeroAddress();
        Member storage member = _members[account];
        if (member.status != MemberStatus.NONE) revert CityAccessAlreadyMember(account);
        member.status = MemberStatus.ACTIVE;
        member.since = uint40(block.timestamp);
        emit MemberOnboarded(account, _msgSender());
    }

    function _suspend(address account, bytes32 reason) internal {
        if (account == address(0)) revert CityAccessZeroAddress();
        Member storage member = _members[account];
        if (member.status == MemberStatus.SUSPENDED) revert CityAccessAlreadySuspended(account);
        if (member.status == MemberStatus.NONE && member.roleBits == 0) revert CityAccessNotMember(account);
        member.status = MemberStatus.SUSPENDED;
        emit MemberSuspended(account, _msgSender(), reason);
        _tellListener(account, true);
    }

    function _reinstate(address account) internal {
        Member storage member = _members[account];
        if (member.status != MemberStatus.SUSPENDED) revert CityAccessNotSuspended(account);
        // A role-only account goes back to NONE (allowed through its roles), a member to ACTIVE.
        member.status = member.since == 0 ? MemberStatus.NONE : MemberStatus.ACTIVE;
        emit MemberReinstated(account, _msgSender());
        _tellListener(account, false);
    }

    function _tellListener(address account, bool suspended) private {
        address listener = membershipListener;
        if (listener != address(0)) IMembershipListener(listener).onMembershipChanged(account, suspended);
    }

    /// @dev Accepts CITY_ADMIN or `role`, from an account that is not suspended.
    function _checkAnyRole(bytes32 role) internal view {
        address caller = _msgSender();
        bool holds = super.hasRole(CityRoles.CITY_ADMIN, caller) || super.hasRole(role, caller);
        if (!holds || _members[caller].status == MemberStatus.SUSPENDED) revert CityAccessMissingRole(caller, role);
    }

    /// @dev A suspended account loses the use of its roles here too (grantRole, revokeRole, …).
    function _checkRole(bytes32 role, address account) internal view override {
        if (!super.hasRole(role, account) || _members[account].status == MemberStatus.SUSPENDED) {
            revert AccessControlUnauthorizedAccount(account, role);
        }
    }

    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        if (account == address(0)) revert CityAccessZeroAddress();
        uint32 bit = _roleBit(role);
        granted = super._grantRole(role, account);
        if (granted) _members[account].roleBits |= bit;
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        uint32 bit = _roleBit(role);
        revoked = super._revokeRole(role, account);
        if (revoked) _members[account].roleBits &= ~bit;
    }

    function _roleBit(bytes32 role) private pure returns (uint32) {
        bytes32[9] memory roles = _roles();
        for (uint256 i = 0; i < roles.length; ++i) {
            if (roles[i] == role) return uint32(1 << i);
        }
        revert CityAccessUnknownRole(role);
    }

    function _roles() private pure returns (bytes32[9] memory) {
        return [
            CityRoles.CITY_ADMIN,
            CityRoles.TREASURY,
            CityRoles.VILLAGE_ENTERPRISE,
            CityRoles.OPERATOR,
            CityRoles.ORACLE,
            CityRoles.INSPECTOR,
            CityRoles.AUDITOR,
            CityRoles.MEMBER,
            CityRoles.VALET
        ];
    }
}
