// #/analytics: totals and charts for a date range, live counters for today (Server-Sent Events), the CSV export,
// the top questions and searches, and the unanswered questions as a to-do list for knowledge managers.
// Dates are UTC days because the server counts in UTC; "to" includes the whole of its day.

import { api } from "./api.js";
import { formatDate, formatNumber, h, mount } from "./dom.js";
import { addDays, debounce, isAbort, isoDay, pageHeader } from "./admin-common.js";
import { chartFigure } from "./charts.js";

const DEFAULT_DAYS = 14;
const DONE_KEY = "omnifin.admin.unanswered-done";

const TOTALS = [
  ["messages", "Messages"],
  ["answered", "Answered"],
  ["unanswered", "Unanswered"],
  ["active_users", "Active users"],
  ["logins", "Sign-ins"],
  ["searches", "Searches"],
  ["feedback_up", "Helpful votes"],
  ["feedback_down", "Unhelpful votes"],
  ["voice_messages", "Voice messages"],
  ["registrations", "Registrations"],
  ["failed_logins", "Failed sign-ins"],
  ["knowledge_changes", "Knowledge changes"],
  ["rate_limited", "Rate-limited"],
  ["latency_ms_avg", "Mean answer time"],
  ["latency_ms_p95", "95th pct. answer time"],
];
const LIVE = ["messages", "answered", "unanswered", "active_users", "logins", "searches"];
const LABEL = Object.fromEntries(TOTALS);

function showValue(key, value) {
  if (key.startsWith("latency")) return value === null || value === undefined ? "–" : `${formatNumber(value)} ms`;
  return formatNumber(value ?? 0);
}

// --- "Mark done" for unanswered questions lives in this browser only ---------------------------------------------
// Stored as question → the newest time it had been asked when ticked off, so a question that goes unanswered
// again after that (the added knowledge did not help) comes back as open.

function doneMap() {
  try {
    const stored = JSON.parse(localStorage.getItem(DONE_KEY) || "{}");
    return new Map(Array.isArray(stored) ? [] : Object.entries(stored));
  } catch {
    return new Map();
  }
}

function saveDone(map) {
  // Keep the newest 500 so the list cannot grow without bound.
  localStorage.setItem(DONE_KEY, JSON.stringify(Object.fromEntries([...map].slice(-500))));
}

function isDone(map, item) {
  const ticked = map.get(item.key);
  return Boolean(ticked && ticked >= item.asked_at);
}

function normalise(question) {
  return question.trim().toLowerCase().replace(/\s+/g, " ");
}

// The same question asked several times is one to-do item with a count and the newest time.
function groupQuestions(questions) {
  const groups = new Map();
  for (const item of questions) {
    const key = normalise(item.question);
    const group = groups.get(key);
    if (group) {
      group.count += 1;
      if (item.asked_at > group.asked_at) group.asked_at = item.asked_at;
    } else {
      groups.set(key, { key, question: item.question, asked_at: item.asked_at, count: 1 });
    }
  }
  return [...groups.values()].sort((a, b) => (a.asked_at < b.asked_at ? 1 : -1));
}

export async function render(container, context) {
  const { signal } = context;
  const today = new Date();
  const from = h("input", { id: "analytics-from", name: "from", type: "date", required: true, value: isoDay(addDays(today, -(DEFAULT_DAYS - 1))) });
  const to = h("input", { id: "analytics-to", name: "to", type: "date", required: true, value: isoDay(today) });
  const interval = h(
    "select",
    { id: "analytics-interval", name: "interval" },
    ["hour", "day", "week"].map((value) => h("option", { value, selected: value === "day" }, value === "hour" ? "Hourly" : value === "day" ? "Daily" : "Weekly")),
  );
  const apply = h("button", { type: "submit", id: "analytics-apply" }, "Apply");
  const csv = h("a", { id: "analytics-csv", class: "button secondary", download: "omnifin-analytics.csv", href: "#" }, "Download CSV");
  const quick = [7, 30, 90].map((days) => {
    const button = h("button", { type: "button", class: "secondary quick-range", dataset: { days: String(days) } }, `Last ${days} days`);
    button.addEventListener("click", () => {
      from.value = isoDay(addDays(new Date(), -(days - 1)));
      to.value = isoDay(new Date());
      load();
    });
    return button;
  });
  const controls = h(
    "form",
    { class: "filters analytics-controls", "aria-label": "Date range" },
    h("div", { class: "field" }, h("label", { for: "analytics-from" }, "From (UTC)"), from),
    h("div", { class: "field" }, h("label", { for: "analytics-to" }, "To (UTC, included)"), to),
    h("div", { class: "field" }, h("label", { for: "analytics-interval" }, "Interval"), interval),
    h("div", { class: "field field-button" }, apply),
  );
  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });

  const error = h("p", { id: "analytics-error", class: "error", role: "alert", hidden: true });
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });

  // Live counters.
  const liveStatus = h("span", { id: "live-status", class: "badge warn" }, "connecting…");
  const liveTime = h("span", { class: "muted small" });
  const live = h(
    "dl",
    { id: "live-counters", class: "counters" },
    LIVE.map((key) => h("div", { class: "counter" }, h("dt", null, LABEL[key]), h("dd", { dataset: { counter: key } }, "–"))),
  );

  const totals = h("dl", { id: "analytics-totals", class: "counters" });
  const charts = h("div", { id: "analytics-charts", class: "charts" });
  const topQuestions = h("div", { class: "table-wrap" });
  const topSearches = h("div", { class: "table-wrap" });
  const unanswered = h("ul", { id: "unanswered-list", class: "todo-list", "aria-describedby": "unanswered-hint" });
  const results = h(
    "div",
    { id: "analytics-results", "aria-live": "off" },
    h("section", { "aria-labelledby": "totals-title" }, h("h2", { id: "totals-title" }, "Totals for the range"), totals),
    h("section", { "aria-labelledby": "charts-title" }, h("h2", { id: "charts-title" }, "Over time"), charts),
    h(
      "div",
      { class: "two-columns" },
      h("section", { "aria-labelledby": "top-questions-title" }, h("h2", { id: "top-questions-title" }, "Top questions"), topQuestions),
      h("section", { "aria-labelledby": "top-searches-title" }, h("h2", { id: "top-searches-title" }, "Top searches"), topSearches),
    ),
    h(
      "section",
      { "aria-labelledby": "unanswered-title", class: "card" },
      h("h2", { id: "unanswered-title" }, "Unanswered questions"),
      h(
        "p",
        { class: "muted", id: "unanswered-hint" },
        "The knowledge bank had no answer to these. Add the missing knowledge, then tick the question off (ticks are kept in this browser).",
      ),
      unanswered,
    ),
  );

  mount(
    container,
    pageHeader("Analytics", "How Omnifin is used: questions, answers, people and feedback.", csv),
    controls,
    h("div", { class: "row quick-ranges", role: "group", "aria-label": "Quick ranges" }, quick),
    error,
    status,
    h(
      "section",
      { class: "card live", "aria-labelledby": "live-title" },
      h("div", { class: "row" }, h("h2", { id: "live-title" }, "Today, live"), liveStatus, liveTime),
      live,
    ),
    results,
  );

  startLive(context, live, liveStatus, liveTime);
  const onResize = debounce(() => redrawCharts(charts), 150);
  window.addEventListener("resize", onResize);
  context.onLeave(() => window.removeEventListener("resize", onResize));

  let generation = 0;
  async function load() {
    const mine = ++generation;
    error.hidden = true;
    if (!from.value || !to.value || from.value > to.value) {
      mount(error, "Pick a start date on or before the end date.");
      error.hidden = false;
      (from.value ? to : from).focus();
      return;
    }
    const query = rangeQuery(from.value, to.value, interval.value);
    csv.href = `/api/admin/analytics?${new URLSearchParams({ format: "csv", ...query })}`;
    csv.setAttribute("download", `omnifin-analytics-${from.value}-to-${to.value}-${interval.value}.csv`);
    results.setAttribute("aria-busy", "true");
    try {
      const report = await api(`/api/admin/analytics?${new URLSearchParams(query)}`, { signal });
      if (mine !== generation) return;
      drawTotals(totals, report.totals);
      drawCharts(charts, report);
      mount(topQuestions, topTable("top-questions", "The most asked questions in the range", "Question", report.top_questions, true));
      mount(topSearches, topTable("top-searches", "The most frequent knowledge searches in the range", "Search", report.top_searches, false));
      drawUnanswered(unanswered, report.unanswered_questions);
      status.textContent = `Showing ${from.value} to ${to.value}, ${interval.value} by ${interval.value}.`;
    } catch (problem) {
      if (isAbort(problem)) return;
      mount(error, problem.message || String(problem));
      error.hidden = false;
    } finally {
      if (mine === generation) results.removeAttribute("aria-busy");
    }
  }

  await load();
}

// from: the start of its UTC day; to: the end of its day, or now when that is still to come (so the last hourly
// buckets are not empty future hours).
function rangeQuery(fromDay, toDay, interval) {
  const end = addDays(new Date(`${toDay}T00:00:00Z`), 1);
  const to = end > new Date() ? new Date().toISOString() : isoDay(end);
  return { from: fromDay, to, interval };
}

function drawTotals(list, totals) {
  mount(
    list,
    TOTALS.map(([key, label]) => h("div", { class: "counter" }, h("dt", null, label), h("dd", { dataset: { total: key } }, showValue(key, totals[key])))),
  );
}

function drawCharts(grid, report) {
  const dates = report.series.map((bucket) => new Date(bucket.start));
  const column = (key) => report.series.map((bucket) => (bucket[key] === undefined ? null : bucket[key]));
  const common = { dates, interval: report.interval };
  const figures = [
    chartFigure({
      ...common,
      id: "chart-messages",
      type: "bar",
      title: "Messages and answers",
      description: "Chat messages per interval, and how many of them the knowledge bank answered.",
      series: [
        { name: "Messages", values: column("messages") },
        { name: "Answered", values: column("answered") },
      ],
    }),
    chartFigure({
      ...common,
      id: "chart-active-users",
      type: "line",
      title: "Active users",
      description: "People who used Omnifin in each interval.",
      series: [{ name: "Active users", values: column("active_users") }],
    }),
    chartFigure({
      ...common,
      id: "chart-latency",
      type: "line",
      title: "Answer time",
      description: "Mean and 95th percentile time to answer a message, in milliseconds.",
      unit: "ms",
      series: [
        { name: "Mean", values: column("latency_ms_avg") },
        { name: "95th percentile", values: column("latency_ms_p95") },
      ],
    }),
    chartFigure({
      ...common,
      id: "chart-unanswered",
      type: "bar",
      title: "Unanswered questions",
      description: "Messages the knowledge bank had no answer for.",
      series: [{ name: "Unanswered", values: column("unanswered") }],
    }),
    chartFigure({
      ...common,
      id: "chart-feedback",
      type: "bar",
      title: "Feedback",
      description: "Answers rated helpful and unhelpful.",
      series: [
        { name: "Helpful", values: column("feedback_up") },
        { name: "Unhelpful", values: column("feedback_down") },
      ],
    }),
  ];
  mount(grid, figures);
  redrawCharts(grid);
}

// Charts are drawn at their on-screen width; this re-measures them (after mounting, and when the window resizes).
function redrawCharts(grid) {
  for (const figure of grid.querySelectorAll("figure")) if (figure.redraw) figure.redraw();
}

function topTable(id, caption, what, rows, withUnanswered) {
  if (!rows.length) return h("p", { class: "muted", id: `${id}-empty` }, "None in this range.");
  return h(
    "table",
    { id },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      null,
      h("tr", null, h("th", { scope: "col" }, what), h("th", { scope: "col", class: "num" }, "Count"), withUnanswered ? h("th", { scope: "col", class: "num" }, "Unanswered") : null),
    ),
    h(
      "tbody",
      null,
      rows.map((row) =>
        h(
          "tr",
          null,
          h("td", { class: "wrap-anywhere" }, row.text),
          h("td", { class: "num" }, formatNumber(row.count)),
          withUnanswered ? h("td", { class: "num" }, row.unanswered ? formatNumber(row.unanswered) : "–") : null,
        ),
      ),
    ),
  );
}

function drawUnanswered(list, questions) {
  const done = doneMap();
  const groups = groupQuestions(questions);
  if (!groups.length) {
    mount(list, h("li", { class: "muted empty" }, "Nothing unanswered in this range."));
    return;
  }
  // Open items first, ticked-off ones after them, so the to-do part stays on top.
  groups.sort((a, b) => Number(isDone(done, a)) - Number(isDone(done, b)));
  mount(
    list,
    groups.map((item, index) => {
      const id = `unanswered-${index}`;
      const ticked = isDone(done, item);
      const box = h("input", { type: "checkbox", id, class: "mark-done", checked: ticked });
      const li = h(
        "li",
        { class: ["todo", ticked && "done"], dataset: { question: item.key } },
        box,
        h(
          "div",
          { class: "todo-body" },
          h("label", { for: id, class: "todo-question" }, item.question, h("span", { class: "visually-hidden" }, " — mark done")),
          h(
            "p",
            { class: "muted small" },
            "Last asked ",
            h("time", { datetime: item.asked_at }, formatDate(item.asked_at)),
            item.count > 1 ? ` · asked ${formatNumber(item.count)} times` : null,
            " · ",
            h("a", { href: "/#/knowledge", class: "add-knowledge" }, "Add knowledge"),
          ),
        ),
      );
      box.addEventListener("change", () => {
        const map = doneMap();
        map.delete(item.key); // re-inserted last, so the 500 kept are the newest ticks
        if (box.checked) map.set(item.key, item.asked_at);
        saveDone(map);
        li.classList.toggle("done", box.checked);
      });
      return li;
    }),
  );
}

// Today's counters over Server-Sent Events (the cookie session makes a plain EventSource work). The browser
// reconnects by itself after a drop; the badge says so. The stream closes when the admin leaves the page.
function startLive(context, list, badge, time) {
  if (!("EventSource" in window)) {
    badge.textContent = "not supported";
    return;
  }
  const source = new EventSource("/api/admin/analytics/stream?every=5");
  const say = (text, kind) => {
    badge.textContent = text;
    badge.className = `badge ${kind}`;
  };
  source.addEventListener("open", () => say("connected", "ok"));
  source.addEventListener("counters", (event) => {
    let counters;
    try {
      counters = JSON.parse(event.data);
    } catch {
      return;
    }
    say("connected", "ok");
    for (const key of LIVE) {
      const slot = list.querySelector(`[data-counter="${key}"]`);
      if (slot) slot.textContent = showValue(key, counters[key]);
    }
    time.textContent = `updated ${new Date().toLocaleTimeString()}`;
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      say("disconnected", "bad");
      // A closed stream is usually an ended session: asking once lets api.js send us to the sign-in page.
      api("/api/auth/session", { signal: context.signal }).catch(() => {});
    } else {
      say("reconnecting…", "warn");
    }
  });
  context.onLeave(() => source.close());
}
