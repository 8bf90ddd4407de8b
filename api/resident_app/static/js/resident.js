// The signed-in resident's own records: the membership application (join), the credit balance
// with its history, and the leases with their actions (cancel, check in, check out) and receipt.

import { act, receiptLines } from "./actions.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { $, credits, el, guarded, say, shortHex, showIso } from "./ui.js";

const READ_MODEL_POLL_MS = 400;
const READ_MODEL_TRIES = 30;

export async function refreshResident() {
  await refreshMembership();
  if (state.member) await Promise.all([refreshBalance(), refreshLeases()]);
}

// ------------------------------------------------------------------------------- membership

async function refreshMembership() {
  const { applications } = await api("GET", "/v1/applications/mine", { auth: true });
  showApplication(applications[0]);
}

// The API's notice is said once, when applying: kept to be shown again in another language.
let lastNotice = null;

function showApplication(application, notice) {
  if (notice !== undefined) lastNotice = notice;
  notice = application && lastNotice && lastNotice.id === application.applicationId ? lastNotice.text : null;
  const line = $("#application-status");
  line.replaceChildren();
  state.member = Boolean(application && application.status === "APPROVED");
  if (application) {
    line.append(
      el("span", { id: "application-state", "data-status": application.status },
        t("applicationStatus", { id: application.applicationId, status: t(`status_${application.status}`) })),
    );
    if (application.reasonCode) line.append(el("br"), t("rejectedBecause", { reason: application.reasonCode }));
    if (notice) line.append(el("br"), el("span", { id: "application-notice" }, notice));
  }
  // A rejected applicant may apply again; a pending or approved one waits or is done.
  $("#apply-form").hidden = Boolean(application && application.status !== "REJECTED");
  $("#balance-section").hidden = !state.member;
  $("#leases-section").hidden = !state.member;
}

async function apply(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const body = {
    name: data.get("name"),
    phone: data.get("phone"),
    homeAddress: data.get("homeAddress"),
    privacyConsent: data.get("privacyConsent") === "on",
  };
  const application = await api("POST", "/v1/applications", { body, auth: true });
  showApplication(application, application.notice ? { id: application.applicationId, text: application.notice } : null);
  if (state.member) await Promise.all([refreshBalance(), refreshLeases()]);
}

// ---------------------------------------------------------------------------------- balance

export async function refreshBalance() {
  const address = state.wallet.address;
  const [answer, prepaid] = await Promise.all([
    api("GET", `/v1/members/${address}/balance`, { auth: true }),
    api("GET", `/v1/members/${address}/prepaid`, { auth: true }),
  ]);
  showPrepaid(prepaid.balance);
  $("#balance").textContent = t("balanceValue", { amount: credits(answer.balance) });
  $("#balance").dataset.balance = answer.balance;
  const list = $("#history");
  list.replaceChildren();
  if (answer.history.length === 0) list.append(el("li", {}, t("historyEmpty")));
  for (const entry of answer.history) {
    const sign = entry.kind === "OUT" || entry.kind === "CASH_OUT" ? "−" : "+";
    list.append(
      el("li", {}, `${t(`kind_${entry.kind}`)} ${sign}${credits(entry.amount)} · `,
        el("code", { title: entry.txHash }, shortHex(entry.txHash))),
    );
  }
  return answer;
}

// The prepaid booking balance (prepaid.js moves it); kept to be shown again in another language.
let prepaidShown = null;

export function showPrepaid(balance) {
  prepaidShown = balance;
  $("#prepaid").textContent = t("balanceValue", { amount: credits(balance) });
  $("#prepaid").dataset.balance = balance;
}

export function rerenderPrepaid() {
  if (prepaidShown !== null) showPrepaid(prepaidShown);
}

// ----------------------------------------------------------------------------------- leases

export async function refreshLeases() {
  const answer = await api("GET", `/v1/members/${state.wallet.address}/leases`, { auth: true });
  renderLeases(answer.leases);
  return answer.leases;
}

function renderLeases(leases) {
  const list = $("#leases");
  list.replaceChildren();
  if (leases.length === 0) list.append(el("li", {}, t("leasesEmpty")));
  for (const lease of leases) {
    const actions = [];
    if (lease.status === "BOOKED") {
      actions.push(actionButton(lease, "cancel", "cancel"), actionButton(lease, "check-in", "checkIn"));
    }
    if (lease.status === "CHECKED_IN") actions.push(actionButton(lease, "check-out", "checkOut"));
    list.append(
      el("li", { "data-lease": lease.leaseId, "data-status": lease.status },
        el("span", {}, t("leaseLine", {
          lease: lease.leaseId, slot: lease.slotId, start: showIso(lease.startIso),
          end: showIso(lease.endIso), price: credits(lease.price),
        })),
        " ", el("strong", { class: "lease-status" }, t(`lease_${lease.status}`)), " ", ...actions),
    );
  }
}

function actionButton(lease, action, label) {
  return el("button", {
    type: "button", class: `lease-${action}`,
    onclick: (event) => guarded(event.currentTarget, () => leaseAction(lease, action)),
  }, t(label));
}

async function leaseAction(lease, action) {
  const result = await act(state.wallet, action, { leaseId: lease.leaseId });
  showReceipt(lease.leaseId, result);
  say("");
  await untilIndexed((leases) => leases.some((l) => l.leaseId === lease.leaseId && l.status !== lease.status));
  await refreshBalance();
}

let lastReceipt = null;

export function showReceipt(leaseId, result) {
  lastReceipt = { leaseId, result };
  $("#receipt").hidden = false;
  $("#receipt").dataset.tx = result.txHash;
  $("#receipt-head").textContent = t("receiptLease", { lease: leaseId, tx: shortHex(result.txHash), block: result.blockNumber });
  $("#receipt-lines").replaceChildren(...receiptLines(result).map((line) => el("li", {}, line)));
}

// After a language switch: the last receipt in the new words.
export function rerenderReceipt() {
  if (lastReceipt) showReceipt(lastReceipt.leaseId, lastReceipt.result);
}

// The lists come from the read model, a block or so behind the relay's answer: read again
// until it shows what the relay did.
export async function untilIndexed(done) {
  for (let i = 0; i < READ_MODEL_TRIES; i += 1) {
    if (done(await refreshLeases())) return;
    await new Promise((resolve) => setTimeout(resolve, READ_MODEL_POLL_MS));
  }
}

$("#apply-form").addEventListener("submit", (event) => guarded($("#apply"), () => apply(event)));
$("#refresh").addEventListener("click", (event) =>
  guarded(event.currentTarget, () => Promise.all([refreshBalance(), refreshLeases()])));
