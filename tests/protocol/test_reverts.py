"""citypass/protocol/reverts: revert data from web3 and JSON-RPC errors, decoded against the
compiled ABIs (custom errors with their arguments), Error(string) and Panic(uint256)."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from citypass.protocol.reverts import (
    ERROR_STRING,
    PANIC,
    custom_errors,
    decode_revert,
    revert_data,
    revert_text,
    rpc_error_data,
)
from citypass.protocol.roles import ROLES

ACCOUNT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"


def error(signature: str, types: list[str], args: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types, args)


def test_a_custom_error_is_named_with_its_arguments_from_the_compiled_abis():
    data = error("LeaseMarketOutsideWindow(uint256,uint256,uint256)", ["uint256"] * 3,
                 [37, 1772442000, 1772449200])  # fmt: skip
    assert decode_revert(data) == ("LeaseMarketOutsideWindow", [37, 1772442000, 1772449200])
    assert decode_revert("0x" + data.hex()) == decode_revert(data)
    assert revert_text(data) == "LeaseMarketOutsideWindow: 37, 1772442000, 1772449200"


def test_bytes_arguments_come_back_as_hex():
    role = ROLES["OPERATOR"]
    data = error("CityAccessMissingRole(address,bytes32)", ["address", "bytes32"], [ACCOUNT, role])
    assert decode_revert(data) == ("CityAccessMissingRole", [ACCOUNT, "0x" + role.hex()])


def test_error_string_and_panic():
    assert decode_revert(ERROR_STRING + encode(["string"], ["not allowed"])) == (
        "Error",
        ["not allowed"],
    )
    assert revert_text(ERROR_STRING + encode(["string"], ["not allowed"])) == "not allowed"
    overflow = PANIC + encode(["uint256"], [0x11])
    assert decode_revert(overflow) == ("Panic", [0x11])
    assert revert_text(overflow) == "Panic 0x11: arithmetic overflow or underflow"
    assert revert_text(PANIC + encode(["uint256"], [0x99])) == "Panic 0x99: unknown panic code"


def test_no_data_unknown_selectors_and_malformed_arguments():
    assert decode_revert(None) == ("Reverted", [])
    assert decode_revert(b"") == decode_revert("0x") == decode_revert("junk") == ("Reverted", [])
    assert decode_revert(bytes.fromhex("deadbeef")) == ("unknown error 0xdeadbeef", [])
    truncated = error("OccupancyOracleStaleReport(uint64,uint64)", ["uint64"] * 2, [1, 2])[:20]
    assert decode_revert(truncated) == ("OccupancyOracleStaleReport", [])
    assert revert_text(None) == "Reverted"


def test_every_compiled_error_is_known_by_its_selector():
    errors = custom_errors()
    selector = keccak(text="OccupancyOracleStaleReport(uint64,uint64)")[:4]
    assert errors[selector] == ("OccupancyOracleStaleReport", ("uint64", "uint64"))
    assert len(errors) > 100


def test_revert_data_from_web3_exceptions_and_json_rpc_errors():
    data = error("ParkingSlotsInvalidWindow(uint256)", ["uint256"], [2])
    hex_data = "0x" + data.hex()
    assert revert_data(ContractCustomError(hex_data, data=hex_data)) == data
    assert revert_data(ContractLogicError("execution reverted", data=(hex_data, "extra"))) == data
    assert revert_data(ValueError("no data")) is None
    assert rpc_error_data({"code": 3, "message": "execution reverted", "data": hex_data}) == data
    assert rpc_error_data({"code": -32000, "data": {"data": hex_data}}) == data
    assert rpc_error_data({"code": -32000, "message": "nonce too low"}) is None
    assert rpc_error_data({"data": "0xnot-hex"}) is None
