// Key places map (safety inspections): every active key place as a point coloured by its risk grade
// (A red, B orange, C blue, D green), ringed when its inspection is due, from /api/v1/safety/places.geojson
// over the county's base layer (basemap.js); click for the place's page. No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const el = document.getElementById("safety-place-map");
const COLORS = { A: "#dc2626", B: "#ea580c", C: "#2563eb", D: "#16a34a" };

async function main() {
  if (!el) return;
  el.style.height = "380px"; // set from script: the CSP forbids inline style attributes
  const r = await fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) return;
  const body = await r.json();
  const { map, points } = await createMap(el);
  const data = points(body.features);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.on("load", () => {
    map.addSource("places", { type: "geojson", data });
    map.addLayer({
      id: "places",
      type: "circle",
      source: "places",
      paint: {
        "circle-radius": 7,
        "circle-stroke-width": ["case", ["get", "due"], 3, 1.5],
        "circle-stroke-color": ["case", ["get", "due"], "#111827", "#ffffff"],
        "circle-color": ["match", ["get", "grade"], "A", COLORS.A, "B", COLORS.B, "C", COLORS.C, COLORS.D],
      },
    });
    if (data.features.length) {
      const b = new maplibregl.LngLatBounds();
      data.features.forEach((f) => b.extend(f.geometry.coordinates));
      map.fitBounds(b, { padding: 40, maxZoom: 14, duration: 0 });
    }
    map.on("click", "places", (e) => {
      const p = e.features[0].properties;
      window.location.href = `/safety/places/${p.id}`;
    });
    map.on("mouseenter", "places", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "places", () => { map.getCanvas().style.cursor = ""; });
    el.dataset.places = String(data.features.length);
    map.once("idle", () => { el.dataset.ready = "1"; });
  });
}

main();
