// Top-up as on real platforms: the API records an order and answers where to pay (the payment
// provider's checkout, opened in a tab of its own); the provider confirms to the API by a signed
// webhook and the API's treasury mints the credits. Here we only follow the order until minted.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { refreshBalance } from "./resident.js";
import { $, credits, guarded } from "./ui.js";

const POLL_MS = 500;
const POLLS = 240; // two minutes: a provider retries a webhook the API could not take at once

async function topUp(event) {
  event.preventDefault();
  const amount = Number(new FormData(event.currentTarget).get("amount"));
  const order = await api("POST", "/v1/topups", { body: { amount }, auth: true });
  const pay = $("#topup-pay");
  pay.href = order.checkoutUrl;
  pay.hidden = false;
  showOrder(order);
  await followOrder(order.id);
}

async function followOrder(id) {
  for (let i = 0; i < POLLS; i += 1) {
    const order = await api("GET", `/v1/topups/${encodeURIComponent(id)}`, { auth: true });
    showOrder(order);
    if (order.status === "minted") {
      $("#topup-pay").hidden = true;
      await showMinted(order.txHash);
      return;
    }
    if (order.status === "mint_failed") throw new Error(t("topupFailed", { reason: order.failure || "" }));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(t("topupWaiting", { id }));
}

// "minted" is the chain's word, but the balance comes from the read model, which may still be a
// block or two behind (more on a busy node): refresh until it lists the mint, so the resident
// never sees the old balance after paying.
async function showMinted(txHash) {
  const wanted = (txHash || "").toLowerCase();
  for (let i = 0; i < POLLS; i += 1) {
    const answer = await refreshBalance();
    if (answer.history.some((entry) => (entry.txHash || "").toLowerCase() === wanted)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

let lastOrder = null;

function showOrder(order) {
  lastOrder = order;
  const line = $("#topup-status");
  line.dataset.status = order.status;
  line.dataset.order = order.id;
  line.textContent = t("topupStatus", {
    id: order.id, amount: credits(order.amount), status: t(`topup_${order.status}`),
  });
}

// After a language switch: the order's line in the new words.
export function rerenderTopUp() {
  if (lastOrder) showOrder(lastOrder);
}

$("#topup-form").addEventListener("submit", (event) => guarded($("#topup"), () => topUp(event)));
