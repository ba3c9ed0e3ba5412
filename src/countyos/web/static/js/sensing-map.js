// Device map (sensing): every device as a point coloured by its state (online, offline, unknown),
// from /api/v1/sensing/devices; click for the device page. GeoJSON only, no tile server (CSP: no inline scripts).
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";

const el = document.getElementById("sensing-map");
const COLORS = { online: "#16a34a", offline: "#dc2626", unknown: "#9ca3af" };

async function main() {
  if (!el) return;
  el.style.height = "420px"; // set from script: the CSP forbids inline style attributes
  const r = await fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) return;
  const body = await r.json();
  const data = body.features;
  const map = new maplibregl.Map({
    container: el,
    locale: JSON.parse(el.dataset.mapLocale || "{}"),
    style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f1f5f9" } }] },
    center: [119.27, 28.59],
    zoom: 9,
    attributionControl: false,
  });
  map.on("load", () => {
    map.addSource("devices", { type: "geojson", data });
    map.addLayer({
      id: "devices",
      type: "circle",
      source: "devices",
      paint: {
        "circle-radius": 7,
        "circle-stroke-width": 1.5,
        "circle-stroke-color": "#ffffff",
        "circle-color": ["match", ["get", "health"], "online", COLORS.online, "offline", COLORS.offline, COLORS.unknown],
      },
    });
    if (data.features.length) {
      const b = new maplibregl.LngLatBounds();
      data.features.forEach((f) => b.extend(f.geometry.coordinates));
      map.fitBounds(b, { padding: 40, maxZoom: 13, duration: 0 });
    }
    map.on("click", "devices", (e) => {
      const p = e.features[0].properties;
      window.location.href = `/sensing/devices/${p.id}`;
    });
    map.on("mouseenter", "devices", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "devices", () => { map.getCanvas().style.cursor = ""; });
    el.dataset.ready = String(data.features.length);
  });
}

main();
