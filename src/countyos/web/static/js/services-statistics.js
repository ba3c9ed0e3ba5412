// Service statistics: the 12-month trend (applications as bars, three rates as lines; ECharts from
// /static/vendor). A click on a month opens the applications submitted in it.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("stats-chart");
    if (!el || !window.echarts) return;
    var d = JSON.parse(el.dataset.chart || "{}"), labels = JSON.parse(el.dataset.labels || "{}");
    var links = JSON.parse(el.dataset.links || "{}");
    if (!d.months || !d.months.length) { el.style.display = "none"; return; }
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [labels.submitted, labels.immediate_rate, labels.on_time_rate, labels.online_rate] },
      grid: { left: 50, right: 50, bottom: 30, top: 50 },
      xAxis: { type: "category", data: d.months },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: labels.submitted, type: "bar", data: d.submitted },
        { name: labels.immediate_rate, type: "line", yAxisIndex: 1, data: d.immediate_rate },
        { name: labels.on_time_rate, type: "line", yAxisIndex: 1, data: d.on_time_rate },
        { name: labels.online_rate, type: "line", yAxisIndex: 1, data: d.online_rate },
      ],
    });
    chart.on("click", function (p) {
      if (p.seriesType === "bar" && links.base) window.location.href = links.base + p.name + "-01";
    });
    el.dataset.rendered = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
