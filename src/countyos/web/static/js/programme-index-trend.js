// 盆景 index trend: spend per month (bars, left axis) and each module's active users a week (lines, right axis).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("index-trend");
    if (!el || !window.echarts) return;
    var data = JSON.parse(el.dataset.chart);
    var hasSpend = data.spend.some(function (v) { return v > 0; });
    if (!data.series.length && !hasSpend) { el.textContent = el.dataset.empty; el.classList.add("muted"); return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var series = [{ name: data.spend_name, type: "bar", yAxisIndex: 0, data: data.spend, itemStyle: { opacity: 0.35 } }];
    data.series.forEach(function (s) { series.push({ name: s.name, type: "line", yAxisIndex: 1, data: s.data }); });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 64, right: 40, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: data.spend_name }, { type: "value", name: data.users_name, minInterval: 1 }],
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
