// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICityAccess
/// @notice Membership and roles of the CityPass ledger. The ledger node asks
/// `transactionAllowed` (Hyperledger Besu's account-permissioning signature) for every transaction.
interface ICityAccess {
    /// @notice Membership state of an account.
    enum MemberStatus {
        NONE,
        ACTIVE,
        SUSPENDED
    }

    /// @notice A zero address was given where an account is required.
    error CityAccessZeroAddress();
    /// @notice The account is already an active or suspended member.
    /// @param account the account
    error CityAccessAlreadyMember(address account);
    /// @notice The account has never been onboarded.
    /// @param account the account
    error CityAccessNotMember(address account);
    /// @notice The account is already suspended.
    /// @param account the account
    error CityAccessAlreadySuspended(address account);
    /// @notice The account is not suspended, so it cannot be reinstated.
    /// @param account the account
    error CityAccessNotSuspended(address account);
    /// @notice The caller lacks every role that may call the function.
    /// @param account the caller
    /// @param role the (first) role that would have been accepted
    error CityAccessMissingRole(address account, bytes32 role);
    /// @notice The account is not an active member (never onboarded, or suspended).
    /// @param account the account
    error CityAccessInactiveMember(address account);
    /// @notice The role is not one of the eight CityPass roles.
    /// @param role the role
    error CityAccessUnknownRole(bytes32 role);

    /// @notice A witness needs a name (a short ASCII label such as "audit-office").
    error CityAccessWitnessNameRequired();
    /// @notice The account is not in the witness set.
    /// @param account the account
    error CityAccessNotWitness(address account);
    /// @notice The witness set is full (its reads loop over it).
    /// @param max the most witnesses the set holds
    error CityAccessTooManyWitnesses(uint256 max);

    /// @notice The membership listener is set once, at deployment.
    error CityAccessListenerAlreadySet();

    /// @notice The contract told of every suspension and reinstatement was set (once).
    event MembershipListenerSet(address indexed listener);
    /// @notice An account became a member.
    event MemberOnboarded(address indexed account, address indexed by);
    /// @notice A member was suspended; `reason` is an opaque code, never personal data.
    event MemberSuspended(address indexed account, address indexed by, bytes32 reason);
    /// @notice A suspended member was reinstated.
    event MemberReinstated(address indexed account, address indexed by);

    /// @notice A witness joined the witness set, or was renamed. `name` is the organisation's label.
    event WitnessSet(address indexed witness, bytes32 name);
    /// @notice A witness left the witness set.
    event WitnessRemoved(address indexed witness);

    /// @notice Set, once and before any member can prepay, the contract told of every suspension
    /// and reinstatement (the lease market). CITY_ADMIN.
    function setMembershipListener(address listener) external;
    /// @notice The contract told of every suspension and reinstatement (zero until set).
    function membershipListener() external view returns (address);
    /// @notice Add `witness` to the witness set, or rename it. CITY_ADMIN.
    /// @dev Witnesses re-execute the ledger and co-sign checkpoints with this key (docs/witnesses.md).
    /// Being a witness grants no role: a witness key cannot transact by being one.
    function setWitness(address witness, bytes32 name) external;
    /// @notice Remove `witness` from the witness set. CITY_ADMIN.
    function removeWitness(address witness) external;
    /// @notice Whether `account` is in the witness set.
    function isWitness(address account) external view returns (bool);
    /// @notice The witness's name, or zero when `account` is not a witness.
    function witnessName(address account) external view returns (bytes32);
    /// @notice The witness set with the names, in the order the witnesses joined.
    function witnesses() external view returns (address[] memory accounts, bytes32[] memory names);

    function isActiveMember(address account) external view returns (bool);
    function isAllowed(address account) external view returns (bool);
    function memberStatus(address account) external view returns (MemberStatus);
    function hasRole(bytes32 role, address account) external view returns (bool);
    /// @notice `hasRole` for an account that is not suspended: what contracts check before acting.
    function hasActiveRole(bytes32 role, address account) external view returns (bool);
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool);
}
