// Evaluation chart: composite score and two rates per subject (ECharts from /static/vendor).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("eval-chart");
    if (!el || !window.echarts) return;
    var d = JSON.parse(el.dataset.chart || "{}"), labels = JSON.parse(el.dataset.labels || "{}");
    if (!d.names || !d.names.length) { el.style.display = "none"; return; }
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [labels.score, labels.closure, labels.on_time] },
      grid: { left: 40, right: 20, bottom: 80, top: 40 },
      xAxis: { type: "category", data: d.names, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [
        { name: labels.score, type: "bar", data: d.scores },
        { name: labels.closure, type: "line", data: d.closure },
        { name: labels.on_time, type: "line", data: d.on_time },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
