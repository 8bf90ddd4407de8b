// Every word the app shows comes from the server's gettext catalog (api/resident_app/texts.py,
// Korean in api/i18n/locales/ko/LC_MESSAGES/messages.po), fetched once per language as
// /app/i18n/<lang>.json. Both languages are loaded before the app starts, so switching is
// instant. `{name}` marks a value filled in.

export const LANGS = ["ko", "en"];
const STORED = "citypass.lang";

async function load(code) {
  const reply = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
  if (!reply.ok) throw new Error(`the ${code} texts did not load (HTTP ${reply.status})`);
  return reply.json();
}

const CATALOGS = Object.fromEntries(await Promise.all(LANGS.map(async (code) => [code, await load(code)])));

// The language remembered on this device; else the first of the browser's languages we have
// (navigator.languages, "en-GB" counts as "en"); else Korean, the village's language.
function firstChoice() {
  const stored = localStorage.getItem(STORED);
  if (LANGS.includes(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const code = String(tag || "").toLowerCase().split("-")[0];
    if (LANGS.includes(code)) return code;
  }
  return "ko";
}

let current = firstChoice();

export function lang() {
  return current;
}

export function setLang(value) {
  current = LANGS.includes(value) ? value : "ko";
  localStorage.setItem(STORED, current);
  document.documentElement.lang = current;
  translateStatic();
}

// t("booked", {lease: 3}): the current language's text, or the English one, or the key itself.
export function t(key, values = {}) {
  const text = CATALOGS[current][key] ?? CATALOGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

// Elements marked data-i18n="key" show t(key); data-i18n-label="key" sets aria-label too.
export function translateStatic() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
