// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title CityForwarder
/// @notice The ERC-2771 forwarder: a resident signs an EIP-712 ForwardRequest in a wallet and any
/// relayer (the CityPass API) submits it. Targets see the resident as `_msgSender()`.
contract CityForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("CityPassForwarder") {}
}
