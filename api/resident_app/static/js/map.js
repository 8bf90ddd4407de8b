// A map of the search drawn as inline SVG: home at the centre, the search radius, and each space
// at its true bearing and distance (an equirectangular projection, exact enough for a village).
// No tiles: nothing is fetched.

import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const SIZE = 320;
const MARGIN = 16;
const M_PER_DEG_LAT = 111_320;

function node(tag, attrs, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) n.setAttribute(key, value);
  if (text !== undefined) n.textContent = text;
  return n;
}

export function drawMap(container, search, onPick) {
  container.replaceChildren();
  const half = SIZE / 2;
  const scale = (half - MARGIN) / search.radiusM; // px per metre
  const mPerDegLon = M_PER_DEG_LAT * Math.cos((search.lat * Math.PI) / 180);
  const svg = node("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, role: "img", "aria-label": t("mapTitle"), class: "map" });
  svg.append(node("title", {}, t("mapTitle")));
  svg.append(node("circle", { cx: half, cy: half, r: half - MARGIN, class: "radius" }));
  svg.append(node("line", { x1: half, y1: MARGIN, x2: half, y2: SIZE - MARGIN, class: "axis" }));
  svg.append(node("line", { x1: MARGIN, y1: half, x2: SIZE - MARGIN, y2: half, class: "axis" }));
  svg.append(node("text", { x: half + 4, y: MARGIN + 10, class: "north" }, "N"));
  svg.append(node("text", { x: MARGIN, y: SIZE - 4, class: "scale" }, `${Math.round(search.radiusM)} m`));
  const home = node("g", { class: "home" });
  home.append(node("rect", { x: half - 6, y: half - 6, width: 12, height: 12 }));
  home.append(node("title", {}, t("home")));
  svg.append(home);
  search.slots.forEach((slot, index) => {
    const x = half + (slot.lon - search.lon) * mPerDegLon * scale;
    const y = half - (slot.lat - search.lat) * M_PER_DEG_LAT * scale;
    const dot = node("g", { class: "slot", tabindex: 0, "data-slot": slot.slotId });
    dot.append(node("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 9 }));
    dot.append(node("text", { x: x.toFixed(1), y: (y + 4).toFixed(1), "text-anchor": "middle" }, String(index + 1)));
    dot.append(node("title", {}, `#${slot.slotId} · ${Math.round(slot.distanceM)} m`));
    dot.addEventListener("click", () => onPick(slot));
    dot.addEventListener("keydown", (event) => {
      if (event.key === "Enter") onPick(slot);
    });
    svg.append(dot);
  });
  container.append(svg);
}
