// Map pick for every position input. Loaded on every page (base.html); enhances each element
// [data-position-pick] that contains inputs named lon and lat (and optionally address):
//  - a search box over the county's own places and addresses (/api/v1/geo/search) with a results
//    list navigable with the arrow keys, Enter and Escape; choosing a result sets lon/lat and fills
//    the address;
//  - a small map with the base layer where a click or dragging the marker sets lon/lat;
//  - "use my location" (the browser's position, WGS-84).
// lon/lat are always written in WGS-84/CGCS2000 (a "crs" select or input in the same form is set to
// wgs84). Without JavaScript the plain inputs still work. No inline scripts or styles (CSP).
// A wrapper already marked data-position-pick-ready (the intake desk, which has its own search and
// map in the desk layout) is left alone.

const wrappers = [...document.querySelectorAll("[data-position-pick]")];

function css(href) {
  if (document.querySelector(`link[href^="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.appendChild(link);
}

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

let counter = 0;

async function enhance(root, bm) {
  const lon = root.querySelector("input[name=lon]");
  const lat = root.querySelector("input[name=lat]");
  if (!lon || !lat || root.dataset.positionPickReady) return;
  const address = root.querySelector("input[name=address], textarea[name=address]");
  const cfg = await bm.basemapConfig();
  const L = cfg.labels || {};
  const id = `pp${++counter}`;
  root.dataset.positionPickReady = "1";

  const box = el("div", { class: "pp" });
  const bar = el("div", { class: "pp-bar" });
  const searchLabel = el("label", { for: `${id}-q`, class: "pp-label" }, L.search || "");
  const input = el("input", {
    id: `${id}-q`, type: "search", class: "pp-q", autocomplete: "off", maxlength: "50", role: "combobox",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}-list`, placeholder: L.search_hint || "",
    "data-position-search": "",
  });
  const locate = el("button", { type: "button", class: "btn secondary pp-locate", "data-position-locate": "" }, L.locate || "");
  bar.append(input, locate);
  const list = el("ul", { id: `${id}-list`, class: "pp-results", role: "listbox", "aria-label": L.results || "", hidden: "" });
  const mapEl = el("div", { class: "pp-map", role: "region", "aria-label": L.map || "", "data-position-map": "" });
  const status = el("p", { class: "pp-status muted", "aria-live": "polite" }, L.hint || "");
  box.append(searchLabel, bar, list, mapEl, status);
  root.insertBefore(box, root.firstChild);

  const { map, toMap, fromMap } = await bm.createMap(mapEl, { boundaries: ["county", "townships", "villages"], padding: 10 });
  const maplibregl = bm.maplibregl;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  const marker = new maplibregl.Marker({ draggable: true, color: "#dc2626" });
  let shown = false;

  function read() {
    const x = parseFloat(lon.value), y = parseFloat(lat.value);
    return Number.isFinite(x) && Number.isFinite(y) && Math.abs(x) <= 180 && Math.abs(y) <= 90 ? [x, y] : null;
  }
  function showMarker(p, zoom) {
    marker.setLngLat(toMap(p));
    if (!shown) { marker.addTo(map); shown = true; }
    if (zoom) map.jumpTo({ center: toMap(p), zoom: Math.max(map.getZoom(), zoom) });
  }
  function write(p, text) {
    const form = root.closest("form") || root;
    lon.value = p[0].toFixed(6);
    lat.value = p[1].toFixed(6);
    const crs = form.querySelector("[name=crs]");
    if (crs && crs.value !== "wgs84" && [...(crs.options || [{ value: "wgs84" }])].some((o) => o.value === "wgs84")) crs.value = "wgs84";
    for (const i of [lon, lat, crs].filter(Boolean)) {
      i.dispatchEvent(new Event("input", { bubbles: true }));
      i.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (text) status.textContent = text;
    root.dataset.picked = `${lon.value},${lat.value}`;
  }

  map.on("load", () => {
    const p = read();
    if (p) showMarker(p, 15);
    mapEl.dataset.ready = "1";
  });
  map.on("click", (e) => {
    const p = fromMap([e.lngLat.lng, e.lngLat.lat]);
    showMarker(p);
    write(p, L.picked || "");
  });
  marker.on("dragend", () => {
    const ll = marker.getLngLat();
    write(fromMap([ll.lng, ll.lat]), L.picked || "");
  });
  for (const i of [lon, lat]) {
    i.addEventListener("change", () => { const p = read(); if (p) showMarker(p); });
  }

  // --- search -------------------------------------------------------------------------------
  let hits = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(i) {
    const items = list.querySelectorAll("[role=option]");
    items.forEach((li, k) => li.setAttribute("aria-selected", k === i ? "true" : "false"));
    active = i;
    if (items[i]) {
      input.setAttribute("aria-activedescendant", items[i].id);
      items[i].scrollIntoView({ block: "nearest" });
    }
  }
  function choose(i) {
    const h = hits[i];
    if (!h) return;
    const p = [h.lon, h.lat];
    showMarker(p, h.precise ? 17 : (h.kind === "township" || h.kind === "county" ? 12 : 14));
    const where = [...h.path.slice(1), h.kind === "address" ? "" : h.name].join("");
    if (address) {
      address.value = h.kind === "address" ? h.name : where;
      address.dispatchEvent(new Event("input", { bubbles: true }));
    }
    input.value = h.kind === "address" ? h.name : where || h.name;
    write(p, `${h.kind_name}: ${[...h.path, h.kind === "address" ? "" : h.name].filter(Boolean).join(" › ")}`);
    close();
  }
  function render() {
    list.replaceChildren();
    if (!hits.length) {
      list.append(el("li", { class: "pp-empty muted", role: "presentation" }, L.no_results || ""));
    }
    hits.forEach((h, i) => {
      const li = el("li", { id: `${id}-o${i}`, role: "option", "aria-selected": "false", "data-kind": h.kind });
      li.append(el("span", { class: "pp-name" }, h.name), el("span", { class: "pp-kind" }, h.kind_name));
      if (h.path.length) li.append(el("span", { class: "pp-path muted" }, h.path.join(" › ")));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      list.append(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }
  async function search() {
    const q = input.value.trim();
    if (!q) { hits = []; close(); return; }
    const mine = ++asked;
    const r = await fetch(`/api/v1/geo/search?limit=8&q=${encodeURIComponent(q.slice(0, 50))}`,
      { credentials: "same-origin", headers: { Accept: "application/json" } }).catch(() => null);
    if (mine !== asked) return;  // an older answer arriving late
    hits = r && r.ok ? await r.json() : [];
    render();
  }
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 200); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden) { search(); return; }
      const n = hits.length;
      if (!n) return;
      highlight(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
    } else if (e.key === "Enter") {
      e.preventDefault();  // never submits the form
      if (!list.hidden && hits.length) choose(active >= 0 ? active : 0);
      else { clearTimeout(timer); search(); }
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); close(); }
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  // --- use my location -------------------------------------------------------------------------
  locate.addEventListener("click", () => {
    if (!navigator.geolocation) { status.textContent = L.locate_failed || ""; return; }
    status.textContent = L.locating || "";
    navigator.geolocation.getCurrentPosition((pos) => {
      const p = [pos.coords.longitude, pos.coords.latitude];
      showMarker(p, 16);
      write(p, (L.located || "").replace("%(m)s", String(Math.round(pos.coords.accuracy))));
    }, () => { status.textContent = L.locate_failed || ""; }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
}

if (wrappers.length) {
  css("/static/vendor/maplibre-gl.css");
  css("/static/css/geo-map.css");
  import("/static/js/basemap.js").then((bm) => {
    for (const w of wrappers) enhance(w, bm).catch((err) => { w.dataset.positionPickError = String(err); });
  }).catch((err) => {  // offline before the map code arrived: the plain inputs still work
    for (const w of wrappers) w.dataset.positionPickError = String(err);
  });
}
