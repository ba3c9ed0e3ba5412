// Device map (sensing): every device as a point coloured by its state (online, offline, unknown),
// from /api/v1/sensing/devices, over the county's base layer and boundaries (basemap.js); click for the
// device page. No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const el = document.getElementById("sensing-map");
const COLORS = { online: "#16a34a", offline: "#dc2626", unknown: "#9ca3af" };

async function main() {
  if (!el) return;
  el.style.height = "420px"; // set from script: the CSP forbids inline style attributes
  const r = await fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) return;
  const body = await r.json();
  const { map, points } = await createMap(el);
  const data = points(body.features);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
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
    el.dataset.devices = String(data.features.length);
    map.once("idle", () => { el.dataset.ready = "1"; }); // drawn: tests wait for it, as for the other maps
  });
}

main();
