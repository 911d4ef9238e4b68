/* Reader-page charts with Apache ECharts (served by the app, SVG renderer).
   Each chart is an element with data-chart="ranking|radar|history" and data-source naming the
   json_script element that holds its data, so the pages need no inline script. */
(function () {
  "use strict";

  var ACCENT = "#b3261e";
  var MUTED = "#5b6673";

  function readData(element) {
    var source = document.getElementById(element.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function niceMax(values) {
    var top = Math.max.apply(null, values.filter(function (value) { return value !== null; }).concat([0]));
    if (top <= 1) { return 1; }
    if (top <= 100) { return 100; }
    return Math.ceil(top / 10) * 10;
  }

  var builders = {
    ranking: function (data, element) {
      element.style.height = Math.max(240, data.cities.length * 22 + 60) + "px";
      return {
        animation: false,
        grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", max: niceMax(data.values) },
        yAxis: { type: "category", data: data.cities, inverse: true, axisTick: { show: false } },
        series: [{
          name: data.title, type: "bar", data: data.values, barMaxWidth: 16,
          itemStyle: { color: ACCENT },
          label: { show: true, position: "right", formatter: function (item) { return item.value.toFixed(1); } }
        }]
      };
    },
    radar: function (data) {
      var top = niceMax(data.city.concat(data.median));
      if (data.indicators.length < 3) {
        // A radar needs three axes; fewer groups read better as bars.
        return {
          animation: false,
          legend: { data: [data.city_label, data.median_label] },
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", data: data.indicators.map(function (item) { return item.name; }) },
          yAxis: { type: "value", max: top },
          series: [
            { name: data.city_label, type: "bar", data: data.city, itemStyle: { color: ACCENT } },
            { name: data.median_label, type: "bar", data: data.median, itemStyle: { color: MUTED } }
          ]
        };
      }
      return {
        animation: false,
        legend: { bottom: 0, data: [data.city_label, data.median_label] },
        tooltip: {},
        radar: {
          radius: "62%",
          indicator: data.indicators.map(function (item) { return { name: item.name, max: top }; })
        },
        series: [{
          type: "radar",
          data: [
            { name: data.city_label, value: data.city, itemStyle: { color: ACCENT }, areaStyle: { opacity: 0.15 } },
            { name: data.median_label, value: data.median, itemStyle: { color: MUTED }, lineStyle: { type: "dashed" } }
          ]
        }]
      };
    },
    history: function (data) {
      return {
        animation: false,
        legend: { bottom: 0, data: [data.score_label, data.rank_label] },
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 8, top: 24, bottom: 36, containLabel: true },
        xAxis: { type: "category", data: data.years, boundaryGap: true },
        yAxis: [
          { type: "value", name: data.score_label, max: niceMax(data.scores) },
          { type: "value", name: data.rank_label, inverse: true, minInterval: 1, min: 1, max: data.cities,
            splitLine: { show: false } }
        ],
        series: [
          { name: data.score_label, type: "line", data: data.scores, symbolSize: 8, itemStyle: { color: ACCENT } },
          { name: data.rank_label, type: "line", yAxisIndex: 1, data: data.ranks, symbolSize: 8,
            itemStyle: { color: MUTED }, lineStyle: { type: "dashed" } }
        ]
      };
    }
  };

  function render() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var build = builders[element.getAttribute("data-chart")];
      var data = readData(element);
      if (!build || !data) { return; }
      var option = build(data, element);
      // ECharts' default tooltip is HTML with style attributes, which the Content-Security-Policy refuses;
      // the rich-text tooltip is drawn inside the chart's SVG instead.
      if (option.tooltip) { option.tooltip.renderMode = "richText"; }
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(option);
      element.setAttribute("data-rendered", "true");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
}());
