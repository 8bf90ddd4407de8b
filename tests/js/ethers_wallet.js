// An ethers v6 wallet against a ledger node, driven by tests/ledger_node/test_ledger_wallets.py.
//
//   node tests/js/ethers_wallet.js journey URL KEY TO DATA CYCLES [configured|stock]
//     CYCLES back-to-back sendTransaction -> wait() -> sendTransaction, as a dapp does.
//   node tests/js/ethers_wallet.js refused URL KEY TO DATA [configured|stock]
//     One send that the node must refuse; prints how ethers reports it.
//
// "configured" is the provider docs/ledger-node.md (## Wallets) tells dapps to use;
// "stock" is `new JsonRpcProvider(url)` with every default (to measure what goes wrong).
// Prints one JSON object on stdout. A failed cycle is recorded, not thrown, so the caller
// sees every failure of a run, not only the first.
"use strict";

const { ethers } = require("ethers");

const CYCLE_TIMEOUT_MS = 30_000;

// The provider a CityPass dapp uses (the same text is in docs/ledger-node.md, ## Wallets).
async function citypassProvider(url) {
  const probe = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
  const chainId = (await probe.getNetwork()).chainId;
  probe.destroy();
  const network = new ethers.Network("citypass", chainId);
  // ethers' getFeeData only offers EIP-1559 fees when the base fee is truthy, and 0n is not:
  // on a zero-base-fee ledger it would fall back to legacy transactions. This plugin applies
  // ethers' own rule (2 x base fee + tip) to the node's answers, zero included.
  network.attachPlugin(
    new ethers.FetchUrlFeeDataNetworkPlugin("data:,", async (_default, provider) => {
      const [block, gasPrice, tip] = await Promise.all([
        provider.getBlock("latest"),
        provider.send("eth_gasPrice", []),
        provider.send("eth_maxPriorityFeePerGas", []),
      ]);
      const maxPriorityFeePerGas = BigInt(tip);
      return {
        gasPrice: BigInt(gasPrice),
        maxFeePerGas: block.baseFeePerGas * 2n + maxPriorityFeePerGas,
        maxPriorityFeePerGas,
      };
    }),
  );
  // cacheTimeout -1: ethers otherwise answers an identical request made within 250 ms from
  // its cache, so a send right after a fast receipt reuses the previous "pending" nonce.
  return new ethers.JsonRpcProvider(url, network, {
    staticNetwork: network,
    cacheTimeout: -1,
    pollingInterval: 250,
  });
}

async function makeProvider(url, mode) {
  if (mode === "stock") return new ethers.JsonRpcProvider(url);
  if (mode === "configured") return citypassProvider(url);
  throw new Error(`unknown provider mode ${mode}: use configured or stock`);
}

function describe(error) {
  return {
    code: error.code ?? null,
    shortMessage: error.shortMessage ?? null,
    message: String(error.message ?? error),
    rpcError: error.error ?? null,
  };
}

async function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), CYCLE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const text = (value) => (value === null || value === undefined ? null : value.toString());

async function journey(url, key, to, data, cycles, mode) {
  const provider = await makeProvider(url, mode);
  const wallet = new ethers.Wallet(key, provider);
  const sent = [];
  const failures = [];
  const started = Date.now();
  for (let cycle = 0; cycle < cycles; cycle++) {
    try {
      const tx = await withTimeout(wallet.sendTransaction({ to, data }), "sendTransaction");
      const receipt = await withTimeout(tx.wait(), "wait");
      sent.push({
        cycle,
        hash: tx.hash,
        nonce: tx.nonce,
        type: tx.type,
        maxFeePerGas: text(tx.maxFeePerGas),
        maxPriorityFeePerGas: text(tx.maxPriorityFeePerGas),
        receiptHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        status: receipt.status,
      });
    } catch (error) {
      failures.push({ cycle, ...describe(error) });
    }
  }
  const ms = Date.now() - started;
  const latestCount = await provider.getTransactionCount(wallet.address, "latest");
  const pendingCount = await provider.getTransactionCount(wallet.address, "pending");
  provider.destroy();
  return { sent, failures, latestCount, pendingCount, ms };
}

async function refused(url, key, to, data, mode) {
  const provider = await makeProvider(url, mode);
  const wallet = new ethers.Wallet(key, provider);
  try {
    const tx = await wallet.sendTransaction({ to, data });
    return { refused: false, hash: tx.hash };
  } catch (error) {
    return { refused: true, ...describe(error) };
  } finally {
    provider.destroy();
  }
}

async function main() {
  const [command, url, key, to, data, ...rest] = process.argv.slice(2);
  let result;
  if (command === "journey") {
    result = await journey(url, key, to, data, Number(rest[0]), rest[1] || "configured");
  } else if (command === "refused") {
    result = await refused(url, key, to, data, rest[0] || "configured");
  } else {
    throw new Error(`unknown command ${command}: use journey or refused`);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
