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
