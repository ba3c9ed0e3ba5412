// Cases map: the console's queue (GeoJSON from /cases/map.geojson) or one case's point, beside the list.
// Clicking a point opens the case. No inline scripts (CSP); no outside tiles unless the county adds them.
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";

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
  const map = new maplibregl.Map({
    container: el,
    style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#eef2f6" } }] },
    center: data.features.length ? data.features[0].geometry.coordinates : [119.27, 28.59],
    zoom: 12,
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.on("load", () => {
    map.addSource("cases", { type: "geojson", data });
    map.addLayer({ id: "cases", type: "circle", source: "cases",
      paint: { "circle-radius": 7, "circle-color": COLORS, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
    if (data.features.length > 1) map.fitBounds(boundsOf(data.features), { padding: 30, maxZoom: 15, duration: 0 });
    map.on("click", "cases", (e) => {
      const id = e.features[0].properties.id;
      if (id) window.location.href = `/cases/${id}`;
    });
    // On a case page whose position may be corrected: a click on the map fills the correction form.
    const pick = document.querySelector("form[data-pick-position]");
    if (pick && el.dataset.point) {
      let marker = null;
      map.on("click", (e) => {
        pick.querySelector("[name=lon]").value = e.lngLat.lng.toFixed(6);
        pick.querySelector("[name=lat]").value = e.lngLat.lat.toFixed(6);
        const details = pick.closest("details");
        if (details) details.open = true;
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

load();
