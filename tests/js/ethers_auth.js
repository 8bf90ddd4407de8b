// An ethers v6 client with and without a JSON-RPC token, driven by
// tests/ledger_node/test_ledger_auth.py.
//
//   node tests/js/ethers_auth.js URL KEY TO DATA [bearer TOKEN]
//
// URL is http(s):// or ws://, with or without a token in its path (/t/TOKEN); "bearer TOKEN"
// sends the token as an Authorization header instead (over HTTP and over WebSocket).
// The wallet KEY sends one transaction (TO, DATA) and waits for its receipt; then the client
// tries the reads a keyless caller must not make: eth_getLogs, eth_call on the contract TO and
// eth_getBalance of TO. Prints one JSON object: the receipt's status and, per read, either its
// result or the node's error message.
"use strict";

const { ethers } = require("ethers");
const WebSocket = require("ws");

function provider(url, bearer) {
  if (url.startsWith("ws")) {
    const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
    return new ethers.WebSocketProvider(() => new WebSocket(url, { headers }), undefined, {
      cacheTimeout: -1,
    });
  }
  const request = new ethers.FetchRequest(url);
  if (bearer) request.setHeader("Authorization", `Bearer ${bearer}`);
  return new ethers.JsonRpcProvider(request, undefined, { cacheTimeout: -1, pollingInterval: 100 });
}

function nodeMessage(error) {
  return error?.error?.message ?? error?.info?.error?.message ?? String(error?.message ?? error);
}

async function attempt(what) {
  try {
    const result = await what();
    return { ok: true, result: result === null || result === undefined ? null : result.toString() };
  } catch (error) {
    return { ok: false, message: nodeMessage(error) };
  }
}

async function main() {
  const [url, key, to, data, mode, bearer] = process.argv.slice(2);
  const client = provider(url, mode === "bearer" ? bearer : undefined);
  const wallet = new ethers.Wallet(key, client);
  const out = {};
  try {
    // Gas is free on this ledger: zero fees, as docs/ledger-node.md (## Wallets) says.
    const tx = await wallet.sendTransaction({ to, data, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    const receipt = await tx.wait(1, 30_000);
    out.status = receipt.status;
    out.hash = tx.hash;
  } catch (error) {
    out.sendError = nodeMessage(error);
  }
  out.getLogs = await attempt(async () => (await client.getLogs({ fromBlock: 0 })).length);
  out.call = await attempt(() => client.call({ to, data }));
  out.getBalance = await attempt(() => client.getBalance(to));
  console.log(JSON.stringify(out));
  await client.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
