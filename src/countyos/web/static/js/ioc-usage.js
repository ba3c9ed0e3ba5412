// Platform usage chart: one line per module over the chosen days.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("usage-chart");
    if (!el || !window.echarts) return;
    var data = JSON.parse(el.dataset.chart);
    if (!data.series.length) { el.textContent = el.dataset.empty; el.classList.add("muted"); return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) { return { name: s.name, type: "line", data: s.data, smooth: false }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
