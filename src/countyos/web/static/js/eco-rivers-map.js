// 河长制/林长制 maps: the areas coloured by patrol status (data-source: a GeoJSON URL), one area
// (data-geometry) with a patrol's track (data-track), and a click-to-draw tool that writes a GeoJSON
// geometry into a form field (data-draw: the textarea's id; lines for rivers and sections, polygons
// for the rest). Over the shared base layer (basemap.js). No inline scripts (CSP).
import { createMap, maplibregl } from "/static/js/basemap.js";

const COLORS = { ok: "#16a34a", due: "#d97706", overdue: "#dc2626", none: "#6b7280" };
const el = document.getElementById("rv-map");
const POLY = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
const LINE = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]];

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

function statusLayers(map, source) {
  const color = ["match", ["get", "status"], "ok", COLORS.ok, "due", COLORS.due, "overdue", COLORS.overdue, COLORS.none];
  map.addLayer({ id: "rv-fill", type: "fill", source, filter: POLY,
    paint: { "fill-color": color, "fill-opacity": 0.35 } });
  map.addLayer({ id: "rv-outline", type: "line", source, filter: POLY,
    paint: { "line-color": color, "line-width": 1.5 } });
  map.addLayer({ id: "rv-line", type: "line", source, filter: LINE,
    paint: { "line-color": color, "line-width": ["match", ["get", "kind"], "section", 5, 3], "line-opacity": 0.85 } });
}

async function setup() {
  if (!el) return;
  const labels = JSON.parse(el.dataset.labels || "{}");
  const single = el.dataset.geometry ? JSON.parse(el.dataset.geometry) : null;
  const track = el.dataset.track ? JSON.parse(el.dataset.track) : [];
  const bbox = single ? boundsOf([single, track.length ? { coordinates: track } : null]) : null;
  const BM = await createMap(el, { bounds: bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : null, padding: 40 });
  const map = BM.map;
  window.rvMap = map;
  const toMap = (c) => BM.toMap(c);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("load", async () => {
    if (el.dataset.source) {
      try {
        const r = await fetch(el.dataset.source, { credentials: "same-origin" });
        const fc = await r.json();
        fc.features = fc.features.map((f) => ({ ...f, geometry: mapCoords(f.geometry, toMap) }));
        map.addSource("rv-areas", { type: "geojson", data: fc });
        statusLayers(map, "rv-areas");
        el.dataset.features = String(fc.features.length);
        for (const id of ["rv-fill", "rv-line"]) {
          map.on("click", id, (e) => {
            const p = e.features[0].properties;
            if (el.dataset.draw) return;
            new maplibregl.Popup().setLngLat(e.lngLat)
              .setHTML(`<a href="${encodeURI(p.url)}">${String(p.name).replace(/[&<>"']/g, "")}</a> · ${labels[p.status] || p.status}`)
              .addTo(map);
          });
        }
      } catch (err) {
        el.dataset.mapError = String(err);
      }
    }
    if (single) {
      map.addSource("rv-one", { type: "geojson", data: { type: "Feature", properties: {}, geometry: mapCoords(single, toMap) } });
      map.addLayer({ id: "rv-one-fill", type: "fill", source: "rv-one", filter: POLY,
        paint: { "fill-color": "#2563eb", "fill-opacity": 0.25 } });
      map.addLayer({ id: "rv-one-line", type: "line", source: "rv-one", paint: { "line-color": "#2563eb", "line-width": 4 } });
    }
    if (track.length) {
      map.addSource("rv-track", { type: "geojson", data: { type: "Feature", properties: {},
        geometry: { type: "LineString", coordinates: track.map(toMap) } } });
      map.addLayer({ id: "rv-track", type: "line", source: "rv-track",
        paint: { "line-color": "#f97316", "line-width": 3, "line-dasharray": [2, 1] } });
    }
    if (el.dataset.draw) drawTool(map, BM);
    map.once("idle", () => { el.dataset.ready = "1"; });
  });
}

function drawTool(map, BM) {
  const field = document.getElementById(el.dataset.draw);
  const kind = document.getElementById("rv-kind");
  let points = [];
  const isLine = () => !kind || kind.value === "river" || kind.value === "section";
  const geometry = () => {
    if (isLine()) return points.length >= 2 ? { type: "LineString", coordinates: points } : null;
    return points.length >= 3 ? { type: "Polygon", coordinates: [[...points, points[0]]] } : null;
  };
  map.addSource("rv-draw", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "rv-draw-line", type: "line", source: "rv-draw", paint: { "line-color": "#7c3aed", "line-width": 3 } });
  map.addLayer({ id: "rv-draw-pts", type: "circle", source: "rv-draw", filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 4, "circle-color": "#7c3aed" } });
  const render = () => {
    const g = geometry();
    const feats = points.map((p) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: BM.toMap(p) } }));
    if (g) feats.push({ type: "Feature", properties: {}, geometry: mapCoords(isLine() ? g : { type: "LineString", coordinates: g.coordinates[0] }, BM.toMap) });
    map.getSource("rv-draw").setData({ type: "FeatureCollection", features: feats });
    if (field) field.value = g ? JSON.stringify(g) : "";
  };
  map.on("click", (e) => {
    const p = BM.fromMap([e.lngLat.lng, e.lngLat.lat]);
    points.push([Math.round(p[0] * 1e7) / 1e7, Math.round(p[1] * 1e7) / 1e7]);
    render();
  });
  if (kind) kind.addEventListener("change", render);
  const clear = document.getElementById("rv-draw-clear");
  if (clear) clear.addEventListener("click", () => { points = []; render(); });
}

setup();
