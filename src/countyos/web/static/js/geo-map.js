// County map (geo): county → township → village → grid layers with labels, components by class,
// click for details, search by code or name. GeoJSON from /api/v1/geo only; a raster basemap is
// added when the county configured a tile URL template. No inline scripts (CSP).
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";

const API = "/api/v1/geo";
const el = document.getElementById("geo-map");

const CLASS_COLORS = {
  "01001": "#1d4ed8", "01002": "#7c3aed", "01003": "#0891b2", "01037": "#f59e0b",
  "01013": "#dc2626", "03001": "#16a34a", "03005": "#65a30d", "04001": "#166534",
};
const AREA_COLORS = { A: "#fca5a5", B: "#fde68a", C: "#bbf7d0" };
const FONT = ["Noto Sans CJK SC"];

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function fetchAll(collection) {
  // Follow the OGC "next" links until every feature of the collection is loaded.
  let url = `${API}/collections/${collection}/items?limit=10000`;
  const features = [];
  while (url) {
    const r = await fetch(url, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error(`${collection}: HTTP ${r.status}`);
    const body = await r.json();
    features.push(...body.features);
    const next = (body.links || []).find((l) => l.rel === "next");
    url = next ? next.href : null;
  }
  return { type: "FeatureCollection", features };
}

function hatchImage() {
  // Diagonal stripes for approximate boundaries (drawn here: no sprite server).
  const size = 12;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = (x + y) % size < 2;
      const i = (y * size + x) * 4;
      data.set(on ? [178, 106, 0, 110] : [0, 0, 0, 0], i);
    }
  }
  return { width: size, height: size, data };
}

function setup() {
  if (!el) return;
  const labels = JSON.parse(el.dataset.labels || "{}");
  const bbox = JSON.parse(el.dataset.bbox || "null");
  const tileUrl = el.dataset.tileUrl || "";

  // Glyphs are drawn by the browser from its own CJK font: the glyph "server" always declines, and
  // MapLibre then renders every character locally. Nothing is fetched from outside.
  maplibregl.addProtocol("countyos-glyphs", async () => { throw new Error("local glyphs only"); });

  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef2f6" } }];
  if (tileUrl) {
    sources.basemap = { type: "raster", tiles: [tileUrl], tileSize: 256, attribution: el.dataset.tileAttribution || "" };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const map = new maplibregl.Map({
    container: el,
    locale: JSON.parse(el.dataset.mapLocale || "{}"),
    style: { version: 8, glyphs: "countyos-glyphs://{fontstack}/{range}", sources, layers },
    bounds: bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : undefined,
    fitBoundsOptions: { padding: 20 },
    localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    attributionControl: tileUrl ? {} : false,
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  window.countyosMap = map;

  map.on("load", async () => {
    map.addImage("hatch", hatchImage());
    try {
      const [county, townships, villages, grids, components] = await Promise.all(
        ["counties", "townships", "villages", "grids", "components"].map(fetchAll));
      addLayers(map, { county, townships, villages, grids, components });
      el.dataset.counts = JSON.stringify({
        townships: townships.features.length, villages: villages.features.length,
        grids: grids.features.length, components: components.features.length,
      });
      map.once("idle", () => { el.dataset.ready = "1"; });
    } catch (err) {
      el.dataset.error = String(err);
      document.getElementById("geo-details-body").textContent = String(err);
    }
  });
  map.on("click", (e) => showDetails(map, e, labels));
  for (const layer of ["components", "grids-fill", "villages-fill", "townships-fill"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  wireControls(map, labels);
}

function addLayers(map, data) {
  for (const [id, fc] of Object.entries(data)) map.addSource(id, { type: "geojson", data: fc });
  const approx = ["==", ["get", "approximate"], true];
  map.addLayer({ id: "townships-fill", type: "fill", source: "townships",
    paint: { "fill-color": "#ffffff", "fill-opacity": 0.01 } });
  map.addLayer({ id: "townships-hatch", type: "fill", source: "townships", filter: approx,
    paint: { "fill-pattern": "hatch", "fill-opacity": 0.35 } });
  map.addLayer({ id: "grids-fill", type: "fill", source: "grids",
    paint: { "fill-color": ["match", ["get", "area_class"], "A", AREA_COLORS.A, "B", AREA_COLORS.B, AREA_COLORS.C],
      "fill-opacity": 0.45 } });
  map.addLayer({ id: "villages-fill", type: "fill", source: "villages",
    paint: { "fill-color": "#ffffff", "fill-opacity": 0.01 } });
  map.addLayer({ id: "grids-line", type: "line", source: "grids", minzoom: 10,
    paint: { "line-color": "#9ca3af", "line-width": 0.5 } });
  map.addLayer({ id: "villages-line", type: "line", source: "villages",
    paint: { "line-color": "#6b7280", "line-width": 0.8, "line-dasharray": ["case", approx, ["literal", [3, 2]], ["literal", [1, 0]]] } });
  map.addLayer({ id: "townships-line", type: "line", source: "townships",
    paint: { "line-color": "#0b5cad", "line-width": 1.6, "line-dasharray": ["case", approx, ["literal", [4, 2]], ["literal", [1, 0]]] } });
  map.addLayer({ id: "county-line", type: "line", source: "county", paint: { "line-color": "#111827", "line-width": 2.5 } });
  map.addLayer({ id: "components", type: "circle", source: "components", minzoom: 9,
    paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 1.5, 14, 5],
      "circle-color": ["match", ["get", "class_code"], ...Object.entries(CLASS_COLORS).flat(), "#6b7280"],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 9, 0, 14, 1] } });
  const label = (id, source, field, size, minzoom, color) => map.addLayer({ id, type: "symbol", source, minzoom,
    layout: { "text-field": ["get", field], "text-font": FONT, "text-size": size, "text-allow-overlap": false },
    paint: { "text-color": color, "text-halo-color": "#ffffff", "text-halo-width": 1.5 } });
  label("grids-label", "grids", "code", 10, 13, "#374151");
  label("villages-label", "villages", "name", 11, 10.5, "#374151");
  label("townships-label", "townships", "name", 14, 0, "#0b3b75");
}

const LAYER_GROUPS = {
  townships: ["townships-fill", "townships-hatch", "townships-line", "townships-label"],
  villages: ["villages-fill", "villages-line", "villages-label"],
  grids: ["grids-fill", "grids-line", "grids-label"],
  components: ["components"],
};

function wireControls(map, labels) {
  document.getElementById("geo-layers")?.addEventListener("change", (e) => {
    const group = LAYER_GROUPS[e.target.dataset.layer];
    if (!group) return;
    for (const id of group) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
  });
  document.getElementById("geo-legend")?.addEventListener("change", () => {
    const off = [...document.querySelectorAll("#geo-legend input:not(:checked)")].map((i) => i.dataset.class);
    if (map.getLayer("components")) {
      map.setFilter("components", off.length ? ["!", ["in", ["get", "class_code"], ["literal", off]]] : null);
    }
  });
  document.getElementById("geo-search")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = document.getElementById("geo-search-q").value.trim();
    if (!q) return;
    const r = await fetch(`${API}/search?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    const hits = r.ok ? await r.json() : [];
    const box = document.getElementById("geo-results");
    const list = document.getElementById("geo-results-list");
    box.classList.remove("hidden");
    list.innerHTML = hits.length ? "" : `<li class="muted">${esc(labels.no_results)}</li>`;
    for (const h of hits) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${h.name || ""} ${h.code}${h.approximate ? " · " + labels.approximate : ""}`;
      b.addEventListener("click", () => {
        const [x0, y0, x1, y1] = h.bbox;
        if (x0 === x1 && y0 === y1) map.flyTo({ center: [x0, y0], zoom: 16 });
        else map.fitBounds([[x0, y0], [x1, y1]], { padding: 40, maxZoom: 16 });
      });
      li.appendChild(b);
      list.appendChild(li);
    }
    if (hits.length === 1) list.querySelector("button").click();
  });
}

function row(k, v) { return v === null || v === undefined || v === "" ? "" : `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`; }

async function showDetails(map, e, labels) {
  const body = document.getElementById("geo-details-body");
  const layers = ["components", "grids-fill", "villages-fill", "townships-fill"].filter((id) => map.getLayer(id));
  const hits = map.queryRenderedFeatures(e.point, { layers });
  const pick = (id) => hits.find((f) => f.layer.id === id);
  const comp = pick("components"), grid = pick("grids-fill"), village = pick("villages-fill"), town = pick("townships-fill");
  let html = "<dl>";
  if (comp) {
    const p = comp.properties;
    html += `<dt><b>${esc(labels.component)}</b></dt><dd><b>${esc(p.name)}</b></dd>` + row(labels.code, p.code) +
      row(labels.class, `${p.class_code} ${p.class_name || ""}`) + row(labels.status, p.status_name || p.status) +
      row(labels.owner, p.owner_dept_name) + row(labels.initial_date, p.initial_date) + row(labels.grid, p.grid_code);
  }
  if (grid) {
    const p = grid.properties;
    const workers = Array.isArray(p.worker_ids) ? p.worker_ids : JSON.parse(p.worker_ids || "[]");
    html += `<dt><b>${esc(labels.grid)}</b></dt><dd><b>${esc(p.code)}</b>${p.approximate ? ` <span class="geo-approx">${esc(labels.approximate)}</span>` : ""}</dd>` +
      row(labels.area_class, p.area_class) + row(labels.area, `${(p.area_m2 / 1e4).toFixed(1)} ha`) +
      row(labels.department, p.department_id) + row(labels.workers, workers.length ? workers.join(", ") : labels.none);
  }
  for (const [f, lab] of [[village, labels.village], [town, labels.township]]) {
    if (!f) continue;
    const p = f.properties;
    html += `<dt>${esc(lab)}</dt><dd>${esc(p.name)} <span class="muted">${esc(p.code)}</span>${p.approximate ? ` <span class="geo-approx">${esc(labels.approximate)}</span>` : ""}</dd>`;
  }
  html += row("WGS-84", `${e.lngLat.lng.toFixed(6)}, ${e.lngLat.lat.toFixed(6)}`) + "</dl>";
  body.classList.remove("muted");
  body.classList.add("geo-details");
  body.innerHTML = html;
}

setup();
