// Maps of the emergency resources: points from data-points (a JSON list of {kind, name, lon, lat, url,
// note}), coloured by kind, each with a popup linking to its record; an optional origin (data-origin,
// [lon, lat]) drawn as a star. Over the shared base layer (basemap.js). No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const COLORS = { warehouse: "#2563eb", team: "#dc2626", shelter: "#16a34a", expert: "#a855f7", origin: "#111827" };

async function setup(el) {
  el.style.height = el.dataset.height || "440px";
  el.style.borderRadius = "6px";
  const points = JSON.parse(el.dataset.points || "[]");
  const origin = el.dataset.origin ? JSON.parse(el.dataset.origin) : null;
  const all = points.map((p) => [p.lon, p.lat]).concat(origin ? [origin] : []);
  let bounds = null;
  if (all.length) {
    const xs = all.map((c) => c[0]);
    const ys = all.map((c) => c[1]);
    bounds = [[Math.min(...xs) - 0.01, Math.min(...ys) - 0.01], [Math.max(...xs) + 0.01, Math.max(...ys) + 0.01]];
  }
  const BM = await createMap(el, { bounds, padding: 40 });
  const map = BM.map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("load", () => {
    const features = points.map((p) => ({
      type: "Feature",
      properties: { kind: p.kind, name: p.name, url: p.url || "", note: p.note || "" },
      geometry: { type: "Point", coordinates: BM.toMap([p.lon, p.lat]) },
    }));
    if (origin) {
      features.push({ type: "Feature", properties: { kind: "origin", name: el.dataset.originLabel || "", url: "", note: "" },
        geometry: { type: "Point", coordinates: BM.toMap(origin) } });
    }
    map.addSource("sp-points", { type: "geojson", data: { type: "FeatureCollection", features } });
    map.addLayer({ id: "sp-dots", type: "circle", source: "sp-points", paint: {
      "circle-radius": ["match", ["get", "kind"], "origin", 8, 6],
      "circle-color": ["match", ["get", "kind"], ...Object.entries(COLORS).flat(), "#6b7280"],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 } });
    map.on("click", "sp-dots", (e) => {
      const p = e.features[0].properties;
      const box = document.createElement("div");
      if (p.url) {
        const a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.name;
        box.appendChild(a);
      } else box.textContent = p.name;
      if (p.note) {
        const n = document.createElement("div");
        n.textContent = p.note;
        box.appendChild(n);
      }
      new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(box).addTo(map);
    });
    el.dataset.features = String(features.length);
    map.once("idle", () => { el.dataset.ready = "1"; });
  });
}

document.querySelectorAll(".sp-map").forEach((el) => setup(el));
