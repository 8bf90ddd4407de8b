// The person's wallet through EIP-1193: found by EIP-6963 discovery (every injected wallet
// announces itself), else the legacy window.ethereum; connected, moved to the ledger's chain
// (added first when the wallet does not know it: error 4902), and asked to sign.

const DISCOVERY_MS = 400;
const UNKNOWN_CHAIN = 4902;

export class WalletError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function walletError(exc) {
  const message = exc && (exc.message || (exc.data && exc.data.message)) ? exc.message || exc.data.message : String(exc);
  return new WalletError(exc && exc.code !== undefined ? exc.code : -1, message);
}

export async function discover() {
  const found = [];
  const onAnnounce = (event) => {
    const detail = event.detail;
    if (detail && detail.provider && !found.some((f) => f.info.uuid === detail.info.uuid)) found.push(detail);
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  await new Promise((resolve) => setTimeout(resolve, DISCOVERY_MS));
  window.removeEventListener("eip6963:announceProvider", onAnnounce);
  if (found.length === 0 && window.ethereum) {
    found.push({ info: { uuid: "legacy", name: "window.ethereum", rdns: "" }, provider: window.ethereum });
  }
  return found;
}

export class Wallet {
  constructor(provider, info) {
    this.provider = provider;
    this.info = info;
    this.address = null;
  }

  async request(method, params) {
    try {
      return await this.provider.request(params === undefined ? { method } : { method, params });
    } catch (exc) {
      throw walletError(exc);
    }
  }

  async connect() {
    const accounts = await this.request("eth_requestAccounts");
    if (!accounts || accounts.length === 0) throw new WalletError(4100, "the wallet shared no account");
    // EIP-55: the checksummed form EIP-4361 and the API expect.
    this.address = window.ethers.getAddress(accounts[0]);
    return this.address;
  }

  // `network` is GET /v1/network: EIP-3085 parameters plus chainIdDecimal.
  async ensureChain(network) {
    const onChain = async () => BigInt(await this.request("eth_chainId")) === BigInt(network.chainIdDecimal);
    if (await onChain()) return;
    const target = [{ chainId: network.chainId }];
    try {
      await this.request("wallet_switchEthereumChain", target);
    } catch (exc) {
      if (exc.code !== UNKNOWN_CHAIN) throw exc;
      const { chainId, chainName, rpcUrls, nativeCurrency } = network;
      await this.request("wallet_addEthereumChain", [{ chainId, chainName, rpcUrls, nativeCurrency }]);
      // Most wallets switch once the chain is added; ask again for those that do not.
      if (!(await onChain())) await this.request("wallet_switchEthereumChain", target);
    }
    if (!(await onChain())) throw new WalletError(4901, `the wallet did not switch to chain ${network.chainIdDecimal}`);
  }

  async signText(text) {
    const hex = window.ethers.hexlify(window.ethers.toUtf8Bytes(text));
    return this.request("personal_sign", [hex, this.address]);
  }

  async signTypedData(typed) {
    return this.request("eth_signTypedData_v4", [this.address, JSON.stringify(typed)]);
  }
}

// The first wallet discovered, connected and moved to the ledger's chain (`network` is
// GET /v1/network); null when the browser has none.
export async function connectFirst(network) {
  const found = await discover();
  if (found.length === 0) return null;
  const wallet = new Wallet(found[0].provider, found[0].info);
  await wallet.connect();
  await wallet.ensureChain(network);
  return wallet;
}
