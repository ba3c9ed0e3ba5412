// Device charts (sensing): one ECharts line per datastream, from the rollups over any range
// (/api/v1/sensing/datastreams/{id}/series picks 1 min, 1 h or 1 day buckets). No inline scripts (CSP).
(function () {
  "use strict";
  const charts = [];

  function toLocalInput(d) {
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  async function draw(el, start, end) {
    const q = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
    const r = await fetch(`/api/v1/sensing/datastreams/${el.dataset.datastream}/series?${q}`, { credentials: "same-origin" });
    if (!r.ok) return;
    const body = await r.json();
    el.style.height = "240px"; // set from script: the CSP forbids inline style attributes
    let chart = echarts.getInstanceByDom(el) || echarts.init(el);
    charts.push(chart);
    const t = body.points.map((p) => p.t);
    chart.setOption({
      animation: false,
      title: body.points.length ? undefined : { text: el.dataset.empty, left: "center", top: "middle", textStyle: { fontSize: 13, color: "#6b7280" } },
      tooltip: { trigger: "axis" },
      legend: { data: [el.dataset.avg, el.dataset.min, el.dataset.max] },
      grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: el.dataset.unit, scale: true },
      series: [
        { name: el.dataset.avg, type: "line", showSymbol: false, data: body.points.map((p, i) => [t[i], p.avg]) },
        { name: el.dataset.min, type: "line", showSymbol: false, lineStyle: { opacity: 0.4 }, data: body.points.map((p, i) => [t[i], p.min]) },
        { name: el.dataset.max, type: "line", showSymbol: false, lineStyle: { opacity: 0.4 }, data: body.points.map((p, i) => [t[i], p.max]) },
      ],
    }, true);
    el.dataset.level = body.level;
    el.dataset.points = String(body.points.length);
  }

  function drawAll() {
    const start = new Date(document.getElementById("chart-start").value);
    const end = new Date(document.getElementById("chart-end").value);
    document.querySelectorAll(".sensing-chart").forEach((el) => draw(el, start, end));
  }

  function setHours(h) {
    const end = new Date();
    document.getElementById("chart-end").value = toLocalInput(end);
    document.getElementById("chart-start").value = toLocalInput(new Date(end.getTime() - h * 3600e3));
    drawAll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector(".sensing-chart")) return;
    document.querySelectorAll("#chart-range [data-hours]").forEach((b) => b.addEventListener("click", () => setHours(Number(b.dataset.hours))));
    document.getElementById("chart-start").addEventListener("change", drawAll);
    document.getElementById("chart-end").addEventListener("change", drawAll);
    window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
    setHours(168);
  });
})();
