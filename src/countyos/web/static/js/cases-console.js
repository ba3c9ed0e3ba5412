// Cases map: the console's queue (GeoJSON from /cases/map.geojson) or one case's point, beside the list.
// Clicking a point opens the case. Base layer and boundaries from basemap.js. No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const el = document.getElementById("cases-map");
const COLORS = ["match", ["get", "level"], "red", "#dc2626", "yellow", "#f59e0b", "paused", "#64748b", "#16a34a"];

function boundsOf(features) {
  const b = new maplibregl.LngLatBounds();
  features.forEach((f) => b.extend(f.geometry.coordinates));
  return b;
}

async function load() {
  if (!el) return;
  let data;
  if (el.dataset.point) {
    const p = JSON.parse(el.dataset.point);
    if (!p || p[0] === null) return;
    data = { type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: { level: "green" } }] };
  } else {
    const r = await fetch(`/cases/map.geojson?queue=${encodeURIComponent(el.dataset.queue || "all")}`, { credentials: "same-origin" });
    if (!r.ok) return;
    data = await r.json();
  }
  const { map, points, fromMap } = await createMap(el, data.features.length ? { center: data.features[0].geometry.coordinates, zoom: 12 } : {});
  data = points(data);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.on("load", () => {
    map.addSource("cases", { type: "geojson", data });
    map.addLayer({ id: "cases", type: "circle", source: "cases",
      paint: { "circle-radius": 7, "circle-color": COLORS, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
    if (data.features.length > 1) map.fitBounds(boundsOf(data.features), { padding: 30, maxZoom: 15, duration: 0 });
    map.once("idle", () => { el.dataset.ready = "1"; }); // drawn: tests wait for it, as for the other maps
    map.on("click", "cases", (e) => {
      const id = e.features[0].properties.id;
      if (id) window.location.href = `/cases/${id}`;
    });
    // On a case page whose position may be corrected: a click on the map fills the correction form.
    const pick = document.querySelector("form[data-pick-position]");
    if (pick && el.dataset.point) {
      let marker = null;
      map.on("click", (e) => {
        const [lon, lat] = fromMap([e.lngLat.lng, e.lngLat.lat]);
        pick.querySelector("[name=lon]").value = lon.toFixed(6);
        pick.querySelector("[name=lat]").value = lat.toFixed(6);
        pick.querySelector("[name=lat]").dispatchEvent(new Event("change", { bubbles: true }));
        const panel = pick.closest("[data-action-panel]");
        if (panel) openPanel(panel.dataset.actionPanel, false);
        if (!marker) marker = new maplibregl.Marker({ color: "#2563eb" });
        marker.setLngLat(e.lngLat).addTo(map);
      });
    }
    map.on("mouseenter", "cases", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "cases", () => { map.getCanvas().style.cursor = ""; });
    // Hovering a row highlights its point.
    document.querySelectorAll("tr[data-case]").forEach((tr) => {
      tr.addEventListener("mouseenter", () => {
        const f = data.features.find((x) => String(x.properties.id) === tr.dataset.case);
        if (f) map.easeTo({ center: f.geometry.coordinates, duration: 300 });
      });
    });
  });
}

// The case page's actions: each button opens its form inline (no page jump; the link is the fallback
// without scripts), and keyboard shortcuts open the dispatcher's frequent ones — never while typing.
function openPanel(action, focus = true) {
  document.querySelectorAll("[data-action-panel]").forEach((p) => {
    const mine = p.dataset.actionPanel === action;
    p.hidden = !mine;
    const btn = document.getElementById(`act-${p.dataset.actionPanel}`);
    if (btn) {
      btn.setAttribute("aria-expanded", mine ? "true" : "false");
      btn.classList.toggle("secondary", !mine);
    }
    if (mine && focus) {
      const first = p.querySelector("select, input:not([type=hidden]), textarea, button");
      if (first) first.focus({ preventScroll: true });
      p.scrollIntoView({ block: "nearest" });
    }
  });
}

function closePanels() {
  document.querySelectorAll("[data-action-panel]").forEach((p) => { p.hidden = true; });
  document.querySelectorAll(".action-open").forEach((b) => {
    b.setAttribute("aria-expanded", "false");
    b.classList.add("secondary");
  });
}

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function actions() {
  const bar = document.querySelector(".action-bar");
  if (!bar) return;
  bar.querySelectorAll(".action-open").forEach((btn) => {
    btn.addEventListener("click", (e) => {
      e.preventDefault();
      const panel = document.getElementById(btn.getAttribute("aria-controls"));
      if (panel && !panel.hidden) closePanels();
      else openPanel(btn.dataset.action);
    });
  });
  const help = document.getElementById("shortcut-help");
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(e.target)) return;
    if (e.key === "Escape") {
      if (help && help.open) help.close();
      else closePanels();
      return;
    }
    if (e.key === "?") {
      if (help && !help.open) help.showModal();
      e.preventDefault();
      return;
    }
    if (help && help.open) return;
    const btn = bar.querySelector(`.action-open[data-key="${CSS.escape(e.key.toLowerCase())}"]`);
    if (btn) {
      e.preventDefault();
      openPanel(btn.dataset.action);
    }
  });
}

actions();
load();
