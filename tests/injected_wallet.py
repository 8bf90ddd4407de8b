"""A wallet injected into a Chromium page for the browser tests: the page script announces an
EIP-1193 provider by EIP-6963 only and forwards every request to Python (page.expose_function
"citypassWallet"), where an eth-account key answers what a wallet offers: accounts, chain
switching (it starts on chain 1 and answers 4902 until the chain is added), personal_sign and
eth_signTypedData_v4; anything else is 4200. Used by the resident app's and the explorer's
sign-in tests."""

from __future__ import annotations

import json
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

PROVIDER = """
(() => {
  const info = Object.freeze({
    uuid: "6f1c3c0e-1c0a-4d2e-9a55-3c7d0a1b2c3d", name: "CityPass Test Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    rdns: "example.citypass.testwallet",
  });
  const provider = {
    async request({ method, params }) {
      const answer = JSON.parse(await window.citypassWallet(method, JSON.stringify(params ?? [])));
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        throw error;
      }
      return answer.result;
    },
    on() {}, removeListener() {},
  };
  const announce = () => window.dispatchEvent(
    new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


class Refusal(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class KeyWallet:
    """A wallet as EIP-1193 and EIP-3085/3326 describe it, holding one fresh key."""

    def __init__(self, account: Any = None) -> None:
        self.account = account or Account.create()
        self.chain_id = 1
        self.known = {1}
        self.added: list[dict[str, Any]] = []
        self.calls: list[str] = []

    def handle(self, method: str, params_json: str) -> str:
        self.calls.append(method)
        try:
            return json.dumps({"result": self._answer(method, json.loads(params_json))})
        except Refusal as refusal:
            return json.dumps({"error": {"code": refusal.code, "message": str(refusal)}})

    def _answer(self, method: str, params: list[Any]) -> Any:
        address = self.account.address
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [address.lower()]  # wallets may answer lower case: the app checksums
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in self.known:
                raise Refusal(4902, f"Unrecognized chain ID {params[0]['chainId']}")
            self.chain_id = wanted
            return None
        if method == "wallet_addEthereumChain":
            self.added.append(params[0])
            self.known.add(int(params[0]["chainId"], 16))
            return None  # added, not switched: the app must switch itself
        if method == "personal_sign":
            assert params[1].lower() == address.lower(), params
            signed = Account.sign_message(encode_defunct(hexstr=params[0]), self.account.key)
            return "0x" + signed.signature.hex().removeprefix("0x")
        if method == "eth_signTypedData_v4":
            assert params[0].lower() == address.lower(), params
            typed = json.loads(params[1])
            if int(typed["domain"]["chainId"]) != self.chain_id:  # as MetaMask refuses
                raise Refusal(-32603, "typed data for another chain than the active one")
            signed = Account.sign_message(encode_typed_data(full_message=typed), self.account.key)
            return "0x" + signed.signature.hex().removeprefix("0x")
        raise Refusal(4200, f"{method} is not supported")
