// The explorer's sign-in (/explorer/sign-in): the auditor's wallet signs an EIP-4361 message for
// a staff session, whose token the API turns into an HttpOnly cookie (POST /explorer/session)
// that the server-rendered pages read; then back to the page the auditor came from. The wallet
// and SIWE code are the resident app's own modules; the texts come from the page (translated
// on the server), so this script holds none.

import { signInWithEthereum } from "/app/js/siwe.js";
import { connectFirst } from "/app/js/wallet.js";

const page = document.querySelector("#sign-in-page");
const button = document.querySelector("#sign-in-button");
const status = document.querySelector("#sign-in-status");

function say(text, isError = false) {
  status.textContent = text;
  status.className = isError ? "bad" : "";
}

// JSON in and out; a refusal throws with the API's own words (error.message).
async function call(method, path, body) {
  const reply = await fetch(path, {
    method,
    headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await reply.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!reply.ok) throw new Error(data && data.error ? data.error.message : `HTTP ${reply.status}`);
  return data;
}

async function signIn() {
  say(page.dataset.connecting);
  const wallet = await connectFirst(await call("GET", "/v1/network"));
  if (!wallet) {
    say(page.dataset.noWallet, true);
    return;
  }
  const signed = await signInWithEthereum(wallet, call, {
    scope: "staff",
    statement: page.dataset.statement,
    onSigning: () => say(page.dataset.signing),
  });
  await call("POST", "/explorer/session", { token: signed.token });
  say(page.dataset.signedIn);
  location.assign(page.dataset.next);
}

button.addEventListener("click", async () => {
  button.disabled = true;
  try {
    await signIn();
  } catch (exc) {
    say(exc.message, true);
  } finally {
    button.disabled = false;
  }
});
button.disabled = false;
