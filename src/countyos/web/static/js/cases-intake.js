// The intake desk: the caller's past cases by phone, place and category search with the keyboard,
// stock phrases, a map to place the problem, Ctrl+Enter to accept. No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const form = document.getElementById("intake-form");
const csrf = () => document.body.dataset.csrf || "";

function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// A text box with a list of suggestions: arrows move, Enter picks, Escape closes.
function combobox(input, list, { load, render, pick }) {
  let items = [];
  let active = -1;
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; };
  const mark = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", i === active ? "true" : "false"));
    const cur = list.children[active];
    if (cur) cur.scrollIntoView({ block: "nearest" });
  };
  const show = (found, emptyText) => {
    items = found;
    list.replaceChildren();
    found.forEach((item, i) => {
      const li = render(item);
      li.setAttribute("role", "option");
      li.id = `${list.id}-${i}`;
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(item); close(); });
      list.appendChild(li);
    });
    if (!found.length && emptyText) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = emptyText;
      list.appendChild(li);
    }
    active = found.length ? 0 : -1;
    mark();
    list.hidden = !list.children.length;
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
  };
  const refresh = debounce(async () => {
    const found = await load(input.value.trim());
    if (document.activeElement === input) show(...found); // the clerk moved on: no list over the next field
  }, 150);
  input.addEventListener("input", refresh);
  input.addEventListener("focus", () => { if (!items.length) refresh(); });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (list.hidden) { refresh(); return; }
      e.preventDefault();
      const n = items.length;
      if (!n) return;
      active = (active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      mark();
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      if (!list.hidden && items[active]) { e.preventDefault(); pick(items[active]); close(); }
      else if (!list.hidden) e.preventDefault();
    } else if (e.key === "Escape") {
      close();
    }
  });
}

function li(text, aside) {
  const el = document.createElement("li");
  const main = document.createElement("span");
  main.textContent = text;
  el.appendChild(main);
  if (aside) {
    const s = document.createElement("span");
    s.className = "muted";
    s.textContent = aside;
    el.appendChild(s);
  }
  return el;
}

// -- map -----------------------------------------------------------------------------------------
const mapEl = document.getElementById("intake-map");
const lonIn = document.getElementById("lon");
const latIn = document.getElementById("lat");
const status = document.getElementById("position-status");
let map = null;
let marker = null;
let toMap = (p) => p;
let fromMap = (p) => p;

function setPosition(lon, lat, name) {
  lonIn.value = Number(lon).toFixed(6);
  latIn.value = Number(lat).toFixed(6);
  status.textContent = status.dataset.picked.replace("{place}", name || status.dataset.map);
  if (map) {
    const at = toMap([Number(lon), Number(lat)]);
    if (!marker) marker = new maplibregl.Marker({ color: "#2563eb" });
    marker.setLngLat(at).addTo(map);
    map.easeTo({ center: at, zoom: Math.max(map.getZoom(), 13), duration: 300 });
  }
  lonIn.dispatchEvent(new Event("change", { bubbles: true }));
}

async function startMap() {
  // the county's base layer and boundaries (basemap.js); positions are kept in WGS-84
  const start = lonIn.value && latIn.value ? [Number(lonIn.value), Number(latIn.value)] : JSON.parse(mapEl.dataset.center);
  const made = await createMap(mapEl, { center: start, zoom: 12, boundaries: ["county", "townships", "villages"] });
  ({ map, toMap, fromMap } = made);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  if (lonIn.value && latIn.value) {
    marker = new maplibregl.Marker({ color: "#2563eb" }).setLngLat(toMap(start)).addTo(map);
  }
  map.on("click", (e) => {
    const [lon, lat] = fromMap([e.lngLat.lng, e.lngLat.lat]);
    setPosition(lon, lat, null);
  });
}

if (mapEl) startMap();

// -- address ---------------------------------------------------------------------------------------
const address = document.getElementById("address");
const addressList = document.getElementById("address-results");
if (address && addressList) {
  combobox(address, addressList, {
    load: async (q) => {
      if (q.length < 2) return [[], ""];
      const r = await fetch(`${address.dataset.places}?q=${encodeURIComponent(q.slice(0, 40))}`, { credentials: "same-origin" });
      return [r.ok ? await r.json() : [], ""];
    },
    render: (p) => li(p.name, p.kind),
    pick: (p) => {
      const typed = address.value.trim();
      if (!typed || p.name.split(" · ").every((part) => !typed.includes(part))) address.value = p.name.replaceAll(" · ", "");
      setPosition(p.lon, p.lat, p.name);
    },
  });
}

// -- category --------------------------------------------------------------------------------------
const catQ = document.getElementById("category-q");
const catList = document.getElementById("category-results");
const catId = document.getElementById("category_id");
const catChosen = document.getElementById("category-chosen");
const phraseButtons = () => [...document.querySelectorAll("#phrases .phrase")];

function showPhrases() {
  phraseButtons().forEach((b) => { b.hidden = !!b.dataset.category && b.dataset.category !== catId.value; });
  phraseButtons().filter((b) => !b.hidden).forEach((b, i) => { b.title = i < 9 ? `Alt+${i + 1}` : ""; });
}

if (catQ && catList) {
  combobox(catQ, catList, {
    load: async (q) => {
      const r = await fetch(`${catQ.dataset.search}?q=${encodeURIComponent(q.slice(0, 40))}&limit=12`, { credentials: "same-origin" });
      return [r.ok ? await r.json() : [], q ? catQ.dataset.none : ""];
    },
    render: (c) => li((c.parent_name ? `${c.parent_name} · ` : "") + c.name, c.uses ? catQ.dataset.uses.replace("{n}", c.uses) : ""),
    pick: (c) => {
      catId.value = String(c.id);
      catQ.value = c.name;
      catChosen.textContent = catChosen.dataset.label.replace("{name}", (c.parent_name ? `${c.parent_name} · ` : "") + c.name);
      showPhrases();
    },
  });
  catQ.addEventListener("input", () => { if (!catQ.value.trim()) { catId.value = ""; catChosen.textContent = ""; showPhrases(); } });
}
if (catId) showPhrases();

// -- stock phrases ---------------------------------------------------------------------------------
const description = document.getElementById("description");
function insertPhrase(text) {
  const start = description.selectionStart ?? description.value.length;
  const end = description.selectionEnd ?? start;
  const before = description.value.slice(0, start);
  const sep = before && !/[\s，。,.；;]$/.test(before) ? "，" : "";
  description.value = before + sep + text + description.value.slice(end);
  const at = (before + sep + text).length;
  description.focus();
  description.setSelectionRange(at, at);
}
document.getElementById("phrases")?.addEventListener("click", (e) => {
  const b = e.target.closest(".phrase");
  if (b) insertPhrase(b.dataset.phrase);
});

// -- the caller's past cases -----------------------------------------------------------------------
const phone = document.getElementById("caller_phone");
const past = document.getElementById("past-cases");
let lastLooked = "";
const lookup = debounce(async () => {
  const value = phone.value.trim();
  const digits = value.replace(/[^0-9]/g, "");
  if (digits.length < 7 || value.includes("*") || value === lastLooked) return;
  lastLooked = value;
  const body = new URLSearchParams({ caller_phone: value, csrf_token: csrf() });
  const r = await fetch(phone.dataset.lookup, {
    method: "POST", credentials: "same-origin", body, headers: { "X-CSRF-Token": csrf() },
  });
  if (r.ok) past.innerHTML = await r.text();
}, 400);
if (phone && past) {
  phone.addEventListener("input", lookup);
  phone.addEventListener("change", lookup);
  if (phone.value) lookup();
}

// -- keyboard: Ctrl+Enter accepts, Alt+1…9 inserts a phrase ----------------------------------------
document.addEventListener("keydown", (e) => {
  if (!form) return;
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    form.requestSubmit();
  } else if (e.altKey && /^[1-9]$/.test(e.key)) {
    const b = phraseButtons().filter((x) => !x.hidden)[Number(e.key) - 1];
    if (b) { e.preventDefault(); insertPhrase(b.dataset.phrase); }
  }
});
form?.addEventListener("submit", () => {
  const b = document.getElementById("intake-submit");
  if (b) setTimeout(() => { b.disabled = true; }, 0); // one case per call, even if the key is pressed twice
});

// the callback's way and time matter only when a callback is wanted
const callback = document.getElementById("callback_needed");
function callbackFields() {
  ["callback_way", "callback_time"].forEach((id) => {
    const el = document.getElementById(id);
    if (el) el.disabled = !callback.checked;
  });
}
if (callback) {
  callback.addEventListener("change", callbackFields);
  callbackFields();
}
