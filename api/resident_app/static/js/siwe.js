// Sign-In with Ethereum (EIP-4361), shared by the resident app and the explorer's sign-in page
// (api/explorer/static/sign-in.js): the message exactly as api/siwe/message.py parses it (the
// domain and chain id the nonce answer names, this page's origin as the URI, Issued At now),
// signed with personal_sign and exchanged for a session at POST /v1/auth/siwe.

export function siweMessage(address, nonce, statement) {
  return [
    `${nonce.domain} wants you to sign in with your Ethereum account:`,
    address,
    "",
    statement,
    "",
    `URI: ${location.origin}`,
    "Version: 1",
    `Chain ID: ${nonce.chainId}`,
    `Nonce: ${nonce.nonce}`,
    `Issued At: ${new Date().toISOString()}`,
  ].join("\n");
}

// `call(method, path, body)` is the page's JSON client; `onSigning` runs just before the wallet
// is asked to sign (to tell the person). Answers POST /v1/auth/siwe's {token, address, roles, …}.
export async function signInWithEthereum(wallet, call, { scope, statement, onSigning = () => {} }) {
  const nonce = await call("GET", "/v1/auth/nonce");
  const message = siweMessage(wallet.address, nonce, statement);
  onSigning();
  const signature = await wallet.signText(message);
  return call("POST", "/v1/auth/siwe", { message, signature, scope });
}
