// 基地 maps of the producers register: every base the person may see (data-source: a GeoJSON URL, each
// feature a popup linking to its base), one base (data-geometry) and a click-to-draw polygon tool that
// writes a GeoJSON geometry into a form field (data-draw: the textarea's id; a "clear" button with id
// vp-draw-clear). Over the shared base layer (basemap.js). No inline scripts or styles (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const POLY = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
const COLORS = { greenhouse: "#0ea5e9", tea_garden: "#16a34a", orchard: "#f59e0b", pond: "#2563eb",
  pen: "#a855f7", forest_land: "#15803d", open_field: "#84cc16" };
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, "");

function mapCoords(geom, f) {
  const walk = (c) => (typeof c[0] === "number" ? f(c) : c.map(walk));
  return { type: geom.type, coordinates: walk(geom.coordinates) };
}

function boundsOf(geoms) {
  let b = null;
  const add = (c) => {
    if (typeof c[0] === "number") {
      b = b ? [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])] : [c[0], c[1], c[0], c[1]];
    } else c.forEach(add);
  };
  geoms.forEach((g) => g && add(g.coordinates));
  return b;
}

async function setup(el) {
  el.style.height = el.dataset.height || "420px";
  el.style.borderRadius = "6px";
  const labels = JSON.parse(el.dataset.labels || "{}");
  const single = el.dataset.geometry ? JSON.parse(el.dataset.geometry) : null;
  let fc = null;
  if (el.dataset.source) {
    try {
      const r = await fetch(el.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } });
      fc = await r.json();
    } catch (err) {
      el.dataset.mapError = String(err);
    }
  }
  const all = [single, ...((fc && fc.features) || []).map((f) => f.geometry)];
  const bbox = boundsOf(all.filter(Boolean));
  const BM = await createMap(el, { bounds: bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : null, padding: 40 });
  const map = BM.map;
  const toMap = (c) => BM.toMap(c);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("load", () => {
    if (fc) {
      fc.features = fc.features.map((f) => ({ ...f, geometry: mapCoords(f.geometry, toMap) }));
      map.addSource("vp-bases", { type: "geojson", data: fc });
      const color = ["match", ["get", "facility"], ...Object.entries(COLORS).flat(), "#6b7280"];
      map.addLayer({ id: "vp-fill", type: "fill", source: "vp-bases", filter: POLY, paint: { "fill-color": color, "fill-opacity": 0.4 } });
      map.addLayer({ id: "vp-line", type: "line", source: "vp-bases", filter: POLY, paint: { "line-color": color, "line-width": 1.5 } });
      el.dataset.features = String(fc.features.length);
      map.on("click", "vp-fill", (e) => {
        if (el.dataset.draw) return;
        const p = e.features[0].properties;
        const ha = (Number(p.area_m2) / 10000).toFixed(2);
        new maplibregl.Popup().setLngLat(e.lngLat)
          .setHTML(`<a href="${encodeURI(p.url)}">${esc(p.name)}</a><br>${esc(p.entity)} · ${ha} ${esc(labels.ha || "ha")}`)
          .addTo(map);
      });
    }
    if (single) {
      map.addSource("vp-one", { type: "geojson", data: { type: "Feature", properties: {}, geometry: mapCoords(single, toMap) } });
      map.addLayer({ id: "vp-one-fill", type: "fill", source: "vp-one", paint: { "fill-color": "#16a34a", "fill-opacity": 0.3 } });
      map.addLayer({ id: "vp-one-line", type: "line", source: "vp-one", paint: { "line-color": "#15803d", "line-width": 3 } });
    }
    if (el.dataset.draw) drawTool(el, map, BM);
    map.once("idle", () => { el.dataset.ready = "1"; });
  });
}

function drawTool(el, map, BM) {
  const field = document.getElementById(el.dataset.draw);
  let points = [];
  const geometry = () => (points.length >= 3 ? { type: "Polygon", coordinates: [[...points, points[0]]] } : null);
  map.addSource("vp-draw", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "vp-draw-line", type: "line", source: "vp-draw", paint: { "line-color": "#7c3aed", "line-width": 3 } });
  map.addLayer({ id: "vp-draw-pts", type: "circle", source: "vp-draw", filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 4, "circle-color": "#7c3aed" } });
  const render = () => {
    const g = geometry();
    const feats = points.map((p) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: BM.toMap(p) } }));
    if (g) feats.push({ type: "Feature", properties: {}, geometry: mapCoords({ type: "LineString", coordinates: g.coordinates[0] }, BM.toMap) });
    map.getSource("vp-draw").setData({ type: "FeatureCollection", features: feats });
    if (field) field.value = g ? JSON.stringify(g) : "";
  };
  map.on("click", (e) => {
    const p = BM.fromMap([e.lngLat.lng, e.lngLat.lat]);
    points.push([Math.round(p[0] * 1e7) / 1e7, Math.round(p[1] * 1e7) / 1e7]);
    render();
  });
  const clear = document.getElementById("vp-draw-clear");
  if (clear) clear.addEventListener("click", () => { points = []; render(); });
}

document.querySelectorAll(".vp-map").forEach((el) => setup(el));
