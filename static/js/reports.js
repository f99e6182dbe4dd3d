// The reports' charts (Apache ECharts, static/vendor/echarts), drawn from the JSON the page
// carries in <script type="application/json" id="report-charts"> (json_script): no inline
// script, so the Content Security Policy stays strict. Tooltips are drawn on the canvas
// (renderMode "richText"): ECharts' HTML tooltips would carry inline styles the policy refuses.
(() => {
  const source = document.getElementById("report-charts");
  if (!source || !window.echarts) return;
  const specs = JSON.parse(source.textContent);
  const locale = (document.documentElement.lang || "").startsWith("zh") ? "ZH" : "EN";
  const palette = ["#9fb8c4", "#00838f", "#f2a900", "#b5523b", "#5c6bc0", "#7cb342"];
  const charts = [];

  function base() {
    return {
      color: palette,
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { top: 0, type: "scroll" },
    };
  }

  function bars(spec, el) {
    const horizontal = spec.horizontal;
    // A line on the percentage axis (a rate), unless it is an amount like the bars (sameAxis).
    const withLine = spec.series.some((s) => s.line && !s.sameAxis);
    if (horizontal) el.style.height = `${Math.max(200, 60 + spec.categories.length * 40)}px`;
    const category = {
      type: "category",
      data: spec.categories,
      inverse: horizontal,
      boundaryGap: !spec.series.every((s) => s.area),
      axisLabel: horizontal
        ? { width: spec.labelWidth || 96, overflow: spec.labelWrap ? "break" : "truncate" }
        : { hideOverlap: true },
    };
    const values = [
      {
        type: "value",
        name: horizontal ? "" : spec.valueName,
        nameTextStyle: { align: "left" },
        // Whole numbers for counts; percentages, minutes and rates have decimals.
        minInterval: spec.decimals ? undefined : 1,
        max: spec.valueMax,
        // Amounts in thousands crowd a phone's horizontal axis: drop the labels that touch.
        axisLabel: { hideOverlap: true },
      },
    ];
    if (withLine) {
      // The lines' axis: percentages (0–100) unless the spec says "lineMax": null (minutes).
      values.push({
        type: "value",
        name: spec.percentName,
        nameTextStyle: { align: "right" },
        min: 0,
        max: spec.lineMax === null ? undefined : 100,
        splitLine: { show: false },
      });
    }
    // A series is a bar, a line on the percentage axis (``line``), or a stacked area on the
    // values' axis (``area``, e.g. the members' level mix); ``stack`` piles series up.
    const series = spec.series.map((s) => {
      const item = { name: s.name, data: s.data, type: s.line || s.area ? "line" : "bar" };
      if (s.stack) item.stack = s.stack;
      if (s.area) {
        item.areaStyle = { opacity: 0.85 };
        item.symbol = "none";
        item.lineStyle = { width: 1 };
      } else if (s.line) {
        item.yAxisIndex = s.sameAxis ? 0 : 1;
        item.symbolSize = 6;
      } else {
        item.barMaxWidth = 28;
        item.barGap = "10%";
      }
      if (s.labels) {
        item.label = {
          show: true,
          position: horizontal ? "right" : "top",
          fontSize: 11,
          formatter: (p) => s.labels[p.dataIndex],
        };
      }
      return item;
    });
    return {
      ...base(),
      grid: { left: 8, right: horizontal ? 44 : 8, top: horizontal ? 40 : 64, bottom: 8, containLabel: true },
      xAxis: horizontal ? values : category,
      yAxis: horizontal ? category : values,
      series,
    };
  }

  function heatmap(spec) {
    return {
      ...base(),
      tooltip: { renderMode: "richText", confine: true },
      legend: { show: false },
      grid: { left: 8, right: 8, top: 8, bottom: 64, containLabel: true },
      xAxis: { type: "category", data: spec.x, splitArea: { show: true } },
      yAxis: { type: "category", data: spec.y, inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: 100,
        calculable: false,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        text: ["100%", "0%"],
        itemHeight: 120,
        inRange: { color: ["#e8f4f5", "#00838f", "#004d55"] },
      },
      series: [
        {
          name: spec.name,
          type: "heatmap",
          data: spec.cells.map((c) => [c[0], c[1], c[2] === null ? "-" : c[2], c[3]]),
          label: { show: true, formatter: (p) => (p.value[2] === "-" ? "" : `${Math.round(p.value[2])}`) },
          tooltip: {
            formatter: (p) =>
              `${spec.y[p.value[1]]} ${spec.x[p.value[0]]}\n${spec.name}: ${p.value[2]}\n${spec.bookedName}: ${p.value[3]}`,
          },
        },
      ],
    };
  }

  document.querySelectorAll("[data-chart]").forEach((el) => {
    const spec = specs[el.dataset.chart];
    if (!spec) return;
    const empty = spec.kind === "heatmap" ? spec.cells.length === 0 : spec.categories.length === 0;
    if (empty) {
      el.classList.add("chart-empty");
      el.textContent = spec.emptyText || specs.empty;
      el.dataset.drawn = "empty";
      return;
    }
    const option = spec.kind === "heatmap" ? heatmap(spec) : bars(spec, el);
    const chart = window.echarts.init(el, null, { renderer: "canvas", locale });
    chart.on("finished", () => {
      el.dataset.drawn = "1";
    });
    chart.setOption(option);
    charts.push(chart);
  });

  // Redraw at the new size when the window (a phone turned) or a container changes.
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver((entries) => {
      entries.forEach((entry) => window.echarts.getInstanceByDom(entry.target)?.resize());
    });
    charts.forEach((chart) => observer.observe(chart.getDom()));
  } else {
    window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
  }
})();

// The filters: picking a preset shows it at once; typing a date makes the range custom.
(() => {
  document.querySelectorAll(".report-filters").forEach((form) => {
    const preset = form.querySelector("[name=range]");
    if (!preset) return;
    preset.addEventListener("change", () => {
      if (preset.value !== "custom") form.submit();
    });
    form.querySelectorAll("[data-custom-range]").forEach((input) => {
      input.addEventListener("change", () => {
        preset.value = "custom";
      });
    });
  });
})();
