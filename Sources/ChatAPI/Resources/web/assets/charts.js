// Time-series charts drawn as SVG with s(): axes, ticks, gridlines, a legend, <title> tooltips on every mark, a
// cursor that follows the mouse or the arrow keys and reads the interval's numbers out, and the same numbers as a
// table in a <details> for anyone who cannot see the chart. No library: the charts are small and the CSP forbids
// anything inline, so the colours come from admin.css classes (.series-0, .series-1 …).

import { formatNumber, h, mount, s } from "./dom.js";

const DEFAULT_WIDTH = 640; // until the figure is on the page and can be measured
const HEIGHT = 240;
const BASE_MARGIN = { top: 12, right: 12, bottom: 30, left: 52 };
const MAX_POINTS = 62; // above this, lines are drawn without dots so the chart stays readable (and light)

let uid = 0;

// A "nice" upper bound and step for the y axis: 1, 2 or 5 × 10^n, about `count` ticks. Everything charted is a
// count or milliseconds, so steps are whole numbers (no "0.5 messages" tick).
function niceScale(max, count = 4) {
  if (!(max > 0)) return { top: 1, step: 1 };
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw));
  return { top: Math.ceil(max / step) * step, step };
}

// How an interval's start is written on the x axis and in tooltips (the server buckets in UTC).
export function intervalLabel(date, interval, long = false) {
  const options = { timeZone: "UTC", day: "numeric", month: "short" };
  if (interval === "hour") Object.assign(options, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  if (long && interval !== "hour") options.year = "numeric";
  const text = date.toLocaleString(undefined, options);
  return interval === "week" && long ? `week of ${text}` : text;
}

function isEmpty(series) {
  return series.every((line) => line.values.every((value) => value === null || value === undefined || value === 0));
}

/**
 * A figure with a heading, legend, chart and data table.
 * options: {id, title, description, type: "line"|"bar", interval, dates: Date[], series: [{name, values}],
 *           format?: (number) => string, unit?: string}
 */
export function chartFigure(options) {
  const { id, title, description, dates, series, interval } = options;
  const format = options.format || ((value) => formatNumber(value));
  const headingId = `${id}-heading`;
  const figure = h(
    "figure",
    { class: "chart-figure card", "aria-labelledby": headingId },
    h("figcaption", null, h("h3", { id: headingId }, title), description ? h("p", { class: "muted small" }, description) : null),
  );

  if (dates.length === 0 || isEmpty(series)) {
    figure.appendChild(h("p", { class: "chart-empty", id: `${id}-empty` }, "No data for this range"));
    return figure;
  }

  figure.appendChild(
    h(
      "ul",
      { class: "chart-legend", "aria-label": "Legend" },
      series.map((line, index) => h("li", null, h("span", { class: ["swatch", `series-${index}`], "aria-hidden": "true" }), line.name)),
    ),
  );
  const readout = h("p", { id: `${id}-readout`, class: "chart-readout muted small", "aria-live": "polite" }, "Point at the chart or focus it and use the arrow keys for the numbers.");
  const slot = h("div", { class: "chart-slot" }, drawChart(options, format, readout, DEFAULT_WIDTH));
  figure.append(slot, readout, dataTable(options, format));
  // The SVG is drawn at the width it is shown at, so text stays 12 px on a phone as on a desktop. Call redraw()
  // once the figure is on the page and after the window changed width.
  let drawnWidth = DEFAULT_WIDTH;
  figure.redraw = () => {
    const width = Math.round(slot.clientWidth);
    if (width < 200 || width === drawnWidth) return;
    drawnWidth = width;
    mount(slot, drawChart(options, format, readout, width));
  };
  return figure;
}

function drawChart({ id, title, description, type, dates, series, interval, unit }, format, readout, width) {
  // A unit gets its own line above the top tick.
  const MARGIN = unit ? { ...BASE_MARGIN, top: 28 } : BASE_MARGIN;
  const n = dates.length;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const band = plotWidth / n;
  const max = Math.max(0, ...series.flatMap((line) => line.values.filter((value) => value !== null && value !== undefined)));
  const { top, step } = niceScale(max);
  const x = (index) => MARGIN.left + band * (index + 0.5);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const titleId = `${id}-title-${++uid}`;
  const descId = `${id}-desc-${uid}`;

  const svg = s(
    "svg",
    {
      id,
      class: ["chart", `chart-${type}`],
      viewBox: `0 0 ${width} ${HEIGHT}`,
      role: "img",
      tabindex: "0",
      "aria-labelledby": `${titleId} ${descId}`,
      preserveAspectRatio: "xMidYMid meet",
    },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, `${description || ""} ${n} intervals; the numbers are in the table below the chart.`.trim()),
  );

  // Gridlines and y ticks.
  const grid = s("g", { class: "chart-grid", "aria-hidden": "true" });
  for (let value = 0; value <= top + step / 2; value += step) {
    grid.append(
      s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }),
      s("text", { x: MARGIN.left - 6, y: y(value), class: "tick tick-y", "dominant-baseline": "middle", "text-anchor": "end" }, format(value)),
    );
  }
  if (unit) grid.append(s("text", { x: MARGIN.left - 6, y: 10, class: "tick unit", "dominant-baseline": "middle", "text-anchor": "end" }, unit));
  svg.append(grid);

  // X axis: a baseline and about six evenly spread labels.
  const axis = s("g", { class: "chart-axis", "aria-hidden": "true" });
  axis.append(s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(0), y2: y(0) }));
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotWidth / 90))));
  for (let index = 0; index < n; index += every) {
    axis.append(
      s("line", { x1: x(index), x2: x(index), y1: y(0), y2: y(0) + 4 }),
      s("text", { x: x(index), y: HEIGHT - 8, class: "tick tick-x", "text-anchor": "middle" }, intervalLabel(dates[index], interval)),
    );
  }
  svg.append(axis);

  // The marks.
  const marks = s("g", { class: "chart-marks" });
  if (type === "bar") {
    const inner = band * 0.8;
    const barWidth = Math.max(0.5, inner / series.length);
    series.forEach((line, lineIndex) => {
      const group = s("g", { class: ["series", `series-${lineIndex}`] });
      line.values.forEach((value, index) => {
        if (!value) return;
        const left = MARGIN.left + band * index + (band - inner) / 2 + barWidth * lineIndex;
        group.append(
          s(
            "rect",
            { x: left, y: y(value), width: Math.max(0.5, barWidth - 1), height: Math.max(0.5, y(0) - y(value)) },
            s("title", null, `${intervalLabel(dates[index], interval, true)}: ${line.name} ${format(value)}`),
          ),
        );
      });
      marks.append(group);
    });
  } else {
    series.forEach((line, lineIndex) => {
      const group = s("g", { class: ["series", `series-${lineIndex}`] });
      // Missing values (no latency in that interval) break the line rather than dropping it to zero.
      let d = "";
      let pen = false;
      line.values.forEach((value, index) => {
        if (value === null || value === undefined) {
          pen = false;
          return;
        }
        d += `${pen ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
        pen = true;
      });
      group.append(s("path", { d, class: "line" }));
      line.values.forEach((value, index) => {
        if (value === null || value === undefined) return;
        // Isolated points (no neighbours) would be invisible as a path, so they always get a dot.
        const lonely = (line.values[index - 1] ?? null) === null && (line.values[index + 1] ?? null) === null;
        if (n > MAX_POINTS && !lonely) return;
        group.append(
          s(
            "circle",
            { cx: x(index), cy: y(value), r: 3.5, class: "dot" },
            s("title", null, `${intervalLabel(dates[index], interval, true)}: ${line.name} ${format(value)}`),
          ),
        );
      });
      marks.append(group);
    });
  }
  svg.append(marks);

  // The cursor: mouse position or arrow keys pick an interval, the readout below says its numbers.
  const cursor = s("line", { class: "chart-cursor", x1: 0, x2: 0, y1: MARGIN.top, y2: y(0), visibility: "hidden", "aria-hidden": "true" });
  svg.append(cursor);
  let selected = -1;
  const select = (index) => {
    selected = Math.max(0, Math.min(n - 1, index));
    cursor.setAttribute("x1", x(selected));
    cursor.setAttribute("x2", x(selected));
    cursor.setAttribute("visibility", "visible");
    const parts = series.map((line) => {
      const value = line.values[selected];
      return `${line.name} ${value === null || value === undefined ? "–" : format(value)}`;
    });
    readout.textContent = `${intervalLabel(dates[selected], interval, true)}: ${parts.join(", ")}`;
  };
  const hide = () => cursor.setAttribute("visibility", "hidden");
  svg.addEventListener("mousemove", (event) => {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) return;
    const at = ((event.clientX - box.left) / box.width) * width;
    select(Math.floor((at - MARGIN.left) / band));
  });
  svg.addEventListener("mouseleave", () => {
    if (document.activeElement !== svg) hide();
  });
  svg.addEventListener("focus", () => select(selected < 0 ? n - 1 : selected));
  svg.addEventListener("blur", hide);
  svg.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: selected - 1, ArrowRight: selected + 1, Home: 0, End: n - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(moves[event.key]);
  });
  return svg;
}

function dataTable({ title, dates, series, interval }, format) {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", null, "Show the numbers"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        null,
        h("caption", null, title),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Interval starting"), series.map((line) => h("th", { scope: "col", class: "num" }, line.name)))),
        h(
          "tbody",
          null,
          dates.map((date, index) =>
            h(
              "tr",
              null,
              h("th", { scope: "row" }, intervalLabel(date, interval, true)),
              series.map((line) => {
                const value = line.values[index];
                return h("td", { class: "num" }, value === null || value === undefined ? "–" : format(value));
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
