// The resident app: the ledger's clock in the header, the wallet (connect, network, sign in),
// then the sections a signed-in resident uses (resident.js, spaces.js).

import { api, saveSession, session } from "./api.js";
import { lang, setLang, t, translateStatic } from "./i18n.js";
import "./prepaid.js";
import { refreshResident, rerenderPrepaid, rerenderReceipt } from "./resident.js";
import { initSpaces, rerenderSpaces } from "./spaces.js";
import { rerenderTopUp } from "./topup.js";
import { state } from "./state.js";
import { $, duration, guarded, say, showIso } from "./ui.js";
import { signInWithEthereum } from "./siwe.js";
import { connectFirst } from "./wallet.js";

const CLOCK_EVERY_MS = 5000;
const watched = new WeakSet(); // providers whose account changes the app follows
const STATEMENT = "Sign in to the CityPass resident app.";

async function tickClock() {
  try {
    const clock = await api("GET", "/v1/clock");
    state.ledgerTime = clock.ledgerTime;
    state.clock = clock;
    renderClock();
  } catch (exc) {
    $("#ledger-time").textContent = "—";
    $("#ledger-ahead").textContent = exc.message;
  }
}

function renderClock() {
  const clock = state.clock;
  if (!clock) return;
  $("#ledger-time").textContent = showIso(clock.ledgerTimeIso);
  $("#ledger-time").dataset.ledgerTime = clock.ledgerTime;
  const ahead = clock.ledgerAheadSeconds;
  $("#ledger-ahead").textContent = Math.abs(ahead) < 60 ? t("ledgerBehind") : t("ledgerAhead", { time: duration(ahead) });
}

async function connect() {
  state.network = state.network || (await api("GET", "/v1/network"));
  const wallet = await connectFirst(state.network);
  if (!wallet) {
    say(t("noWallet"), "error");
    return;
  }
  const provider = wallet.provider;
  state.wallet = wallet;
  // Another account chosen in the wallet: connect it (its own session, its own records).
  if (typeof provider.on === "function" && !watched.has(provider)) {
    watched.add(provider);
    provider.on("accountsChanged", () => guarded(null, connect));
  }
  const current = session();
  if (current && current.address !== wallet.address) saveSession(null);
  say("");
  renderWallet();
  if (session()) await refreshAll();
}

async function signIn() {
  const call = (method, path, body) => api(method, path, body === undefined ? {} : { body });
  const signed = await signInWithEthereum(state.wallet, call, {
    scope: "resident",
    statement: STATEMENT,
    onSigning: () => say(t("signInWallet")),
  });
  saveSession({ token: signed.token, address: signed.address, expiresAt: signed.expiresAt });
  say("");
  renderWallet();
  await refreshAll();
}

async function signOut() {
  try {
    await api("POST", "/v1/auth/logout", { auth: true });
  } finally {
    saveSession(null);
    renderWallet();
  }
}

function renderWallet() {
  const wallet = state.wallet;
  const current = session();
  state.signedIn = Boolean(wallet && current && current.address === wallet.address);
  $("#wallet-address").textContent = wallet ? t("connected", { address: wallet.address }) : "";
  $("#wallet-network").textContent =
    wallet && state.network ? t("networkAdded", { name: state.network.chainName, chainId: state.network.chainIdDecimal }) : "";
  $("#connect").hidden = Boolean(wallet);
  $("#sign-in").disabled = !wallet;
  $("#sign-in").hidden = state.signedIn;
  $("#sign-out").hidden = !state.signedIn;
  $("#session-line").textContent = state.signedIn
    ? t("signedIn", { time: new Date(current.expiresAt * 1000).toLocaleTimeString(lang() === "ko" ? "ko-KR" : "en-GB") })
    : "";
  for (const id of ["#membership-section", "#balance-section", "#leases-section"]) $(id).hidden = !state.signedIn;
}

async function refreshAll() {
  if (!state.signedIn) return;
  await refreshResident();
}

function switchLang(value) {
  setLang(value);
  $("#lang-ko").setAttribute("aria-pressed", String(value === "ko"));
  $("#lang-en").setAttribute("aria-pressed", String(value === "en"));
  renderClock();
  renderWallet();
  rerenderSpaces();
  rerenderReceipt();
  rerenderPrepaid();
  rerenderTopUp();
  if (state.signedIn) guarded(null, refreshResident);
}

function boot() {
  switchLang(lang());
  translateStatic();
  $("#lang-ko").addEventListener("click", () => switchLang("ko"));
  $("#lang-en").addEventListener("click", () => switchLang("en"));
  $("#connect").addEventListener("click", (event) => guarded(event.currentTarget, connect));
  $("#sign-in").addEventListener("click", (event) => guarded(event.currentTarget, signIn));
  $("#sign-out").addEventListener("click", (event) => guarded(event.currentTarget, signOut));
  tickClock().then(() => initSpaces());
  setInterval(tickClock, CLOCK_EVERY_MS);
}

boot();
