// Small DOM and formatting helpers shared by the app's sections.

import { lang, t } from "./i18n.js";

export const $ = (selector) => document.querySelector(selector);

// el("li", {class: "x", onclick}, "text", child…): an element with attributes and children.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// One status line for the person: what is happening, what went well, what went wrong.
export function say(text, kind = "info") {
  const box = $("#status");
  box.textContent = text;
  box.className = `status ${kind}`;
  box.hidden = !text;
}

// Every failure reaches the person in plain words: the API's error.message, or the wallet's.
export function sayError(exc) {
  const message = exc && exc.message ? exc.message : String(exc);
  const key = exc && exc.name === "WalletError" ? "walletError" : "error";
  say(t(key, { message }), "error");
}

// Run an action from a button: disabled while it runs, its failure said, never swallowed.
export async function guarded(button, action) {
  if (button) button.disabled = true;
  if ($("#status").classList.contains("error")) say(""); // a new attempt: the old error is done
  try {
    return await action();
  } catch (exc) {
    sayError(exc);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function credits(amount) {
  return Number(amount).toLocaleString(lang() === "ko" ? "ko-KR" : "en-US");
}

export function shortHex(hex) {
  return hex ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : "";
}

const KST_OFFSET_S = 9 * 3600;

// Unix seconds as "YYYY-MM-DDTHH:MM" in KST (what a datetime-local input holds).
export function kstInput(seconds) {
  return new Date((seconds + KST_OFFSET_S) * 1000).toISOString().slice(0, 16);
}

// A datetime-local value read as KST, as ISO 8601 with +09:00 (what the API takes).
export function kstIso(inputValue) {
  return `${inputValue.length === 16 ? `${inputValue}:00` : inputValue}+09:00`;
}

// An ISO time from the API ("2026-12-08T19:00:00+09:00") shown as "12-08 19:00" (KST).
export function showIso(iso) {
  return iso ? iso.slice(5, 16).replace("T", " ") : "";
}

export function showSeconds(seconds) {
  return showIso(new Date((seconds + KST_OFFSET_S) * 1000).toISOString());
}

export function duration(seconds) {
  const s = Math.abs(seconds);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const ko = lang() === "ko";
  const parts = [];
  if (days) parts.push(ko ? `${days}일` : `${days} d`);
  if (hours) parts.push(ko ? `${hours}시간` : `${hours} h`);
  parts.push(ko ? `${minutes}분` : `${minutes} min`);
  return parts.join(" ");
}
