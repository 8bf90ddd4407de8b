// Find a space near home tonight: a window (typed in KST, sent as ISO 8601 with +09:00), a point
// and a radius → GET /v1/slots/search, shown as a list and an SVG map; a space's quote
// (price, overstay and cancellation terms, bookable or why not) and booking it.

import { book } from "./actions.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { drawMap } from "./map.js";
import { refreshBalance, showReceipt, untilIndexed } from "./resident.js";
import { state } from "./state.js";
import { $, credits, el, guarded, kstInput, kstIso, say, shortHex, showIso } from "./ui.js";

// The Sangsalmi village centre: the middle of the shared lots the demo seeds (demo/village.py
// LOTS: Technopark, Samjeong A and B, the resident-priority street and residents' own spaces).
export const VILLAGE_CENTRE = { lat: 37.5171, lon: 126.7761 };
const DEFAULT_RADIUS_M = 1500;
const HALF_HOUR_S = 1800;
const KST_OFFSET_S = 9 * 3600;
const EVENING_HOUR = 19;
const NIGHT_HOURS = 3;

let lastSearch = null;
let lastQuote = null;
let lastBooked = null;

// Tonight on the ledger's clock (not the wall clock: the demo's ledger runs ahead): 19:00 KST of
// the ledger's day, or the next half-hour when that has passed.
function tonight(ledgerTime) {
  const dayStart = ledgerTime - ((ledgerTime + KST_OFFSET_S) % 86400);
  const nextHalfHour = Math.ceil(ledgerTime / HALF_HOUR_S) * HALF_HOUR_S;
  const start = Math.max(dayStart + EVENING_HOUR * 3600, nextHalfHour);
  return [start, start + NIGHT_HOURS * 3600];
}

export function initSpaces() {
  const form = $("#search-form");
  const [start, end] = tonight(state.ledgerTime ?? Math.floor(Date.now() / 1000));
  form.start.value = kstInput(start);
  form.end.value = kstInput(end);
  form.lat.value = VILLAGE_CENTRE.lat;
  form.lon.value = VILLAGE_CENTRE.lon;
  form.radius.value = DEFAULT_RADIUS_M;
}

async function search(event) {
  event.preventDefault();
  const form = $("#search-form");
  const answer = await api("GET", "/v1/slots/search", {
    query: {
      lat: form.lat.value, lon: form.lon.value, radius_m: form.radius.value,
      start: kstIso(form.start.value), end: kstIso(form.end.value),
    },
  });
  lastSearch = answer;
  say("");
  renderSearch();
}

function renderSearch() {
  if (!lastSearch) return;
  const { found, slots } = lastSearch;
  $("#search-summary").textContent = found ? t("found", { found, shown: slots.length }) : t("noneFound");
  $("#slots").replaceChildren(
    ...slots.map((slot) =>
      el("li", { "data-slot": slot.slotId },
        t("slotLine", {
          slot: slot.slotId, category: t(`cat_${slot.category}`), distance: Math.round(slot.distanceM),
          price: credits(slot.price),
        }), " ",
        el("button", { type: "button", class: "quote", onclick: (e) => guarded(e.currentTarget, () => quote(slot)) }, t("quote"))),
    ),
  );
  drawMap($("#map"), lastSearch, (slot) => guarded(null, () => quote(slot)));
}

async function quote(slot) {
  const answer = await api("GET", `/v1/slots/${slot.slotId}/quote`, {
    query: { start: lastSearch.startIso, end: lastSearch.endIso },
  });
  lastQuote = answer;
  lastBooked = null;
  renderBooked();
  renderQuote();
  $("#quote-section").scrollIntoView({ block: "nearest" });
}

function renderQuote() {
  const q = lastQuote;
  if (!q) return;
  $("#quote-section").hidden = false;
  $("#quote-section").dataset.slot = q.slotId;
  $("#quote-title").textContent = t("quoteTitle", { slot: q.slotId });
  const c = q.cancellation;
  const rows = [
    [t("price"), t("priceValue", { price: credits(q.price), units: q.units, perUnit: credits(q.pricePerUnit) })],
    ["", q.bookable ? t("bookable") : t("notBookable", { reason: q.reason })],
    ["", t("checkInFrom", { time: showIso(q.checkInFromIso) })],
    [t("overage"), t("overageValue", { per10: credits(q.overage.per10Min), penalty: credits(q.overage.penalty) })],
    [t("cancellation"), t("freeUntil", { time: showIso(c.freeUntilIso) })],
    ["", t("graceRule", { minutes: Math.round(c.bookingGraceSeconds / 60) })],
    ["", t("lateRule", { pct: c.lateRefundBps / 100, refund: credits(c.lateRefund) })],
    ["", t("noCancelRule", { time: showIso(c.noCancelFromIso) })],
  ];
  $("#quote").replaceChildren(...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  $("#quote").dataset.bookable = String(q.bookable);
  $("#quote").dataset.price = q.price;
  $("#book").disabled = !q.bookable;
}

async function bookQuoted() {
  if (!state.signedIn || !state.wallet) {
    say(t("signInFirst"), "error");
    return;
  }
  if (!state.member) {
    say(t("notMember"), "error");
    return;
  }
  const q = lastQuote;
  const result = await book(state.wallet, q.slotId, q.start, q.end, q.price);
  const leaseId = result.leaseId;
  lastBooked = { leaseId, txHash: result.txHash };
  renderBooked();
  showReceipt(leaseId, result);
  say("");
  await untilIndexed((leases) => leases.some((l) => l.leaseId === leaseId));
  await refreshBalance();
}

function renderBooked() {
  const booked = $("#booked");
  if (!lastBooked) {
    booked.textContent = "";
    delete booked.dataset.lease;
    return;
  }
  booked.textContent = t("booked", { lease: lastBooked.leaseId, tx: shortHex(lastBooked.txHash) });
  booked.dataset.lease = lastBooked.leaseId;
  booked.dataset.tx = lastBooked.txHash;
}

// After a language switch: the search, quote and booking shown again in the new words.
export function rerenderSpaces() {
  renderSearch();
  renderQuote();
  renderBooked();
}

$("#search-form").addEventListener("submit", (event) => guarded($("#find"), () => search(event)));
$("#book").addEventListener("click", (event) => guarded(event.currentTarget, bookQuoted));
