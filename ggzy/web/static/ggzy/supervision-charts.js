// The supervision dashboards (智慧监管看板): draws the screens' distributions and the co-bidding
// graph with ECharts from the page's JSON (#dashboard-data). Without JavaScript the page's
// tables carry the same numbers.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    (data.histograms || []).forEach(function (h) {
      var el = document.getElementById("hist-" + h.screen);
      if (!el || !h.counts.length) { return; }
      var labels = h.counts.map(function (_c, i) {
        return h.edges[i].toPrecision(3) + "–" + h.edges[i + 1].toPrecision(3);
      });
      el.classList.add("chart");
      echarts.init(el).setOption({
        title: { text: h.screen.toUpperCase(), left: "center", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 10, top: 30, bottom: 40 },
        xAxis: { type: "category", data: labels, axisLabel: { rotate: 45, fontSize: 9 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", data: h.counts, itemStyle: { color: "#b03a2e" } }]
      });
    });
    var g = data.graph || {};
    var el = document.getElementById("co-bidding-graph");
    if (el && g.nodes && g.nodes.length) {
      el.classList.add("chart", "chart-tall");
      echarts.init(el).setOption({
        tooltip: {},
        legend: [{ data: g.groups, type: "scroll", bottom: 0 }],
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true,
          force: { repulsion: 120, edgeLength: [30, 120] },
          categories: g.groups.map(function (name) { return { name: name }; }),
          data: g.nodes.map(function (n) { return { id: n.id, name: n.name, category: n.category, symbolSize: 14 }; }),
          links: g.links.map(function (l) { return { source: l.source, target: l.target, value: l.value, lineStyle: { width: Math.min(6, 1 + l.value / 2) } }; }),
          label: { show: g.nodes.length <= 40, position: "right", fontSize: 10 }
        }]
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
