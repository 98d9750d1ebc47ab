// MicroBPF live page: CDF plots of every latency series and a sortable flow table, refreshed every 2 s.
// Plain JavaScript and SVG, no build step. Data: /microbpf/api/latency, /microbpf/api/netlat, /microbpf/api/flows.
"use strict";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const FLOW_COLUMNS = [
  ["local", "text", f => f.localAddress + ":" + f.localPort],
  ["remote", "text", f => f.remoteAddress + ":" + f.remotePort],
  ["comm", "text", f => f.comm || ""],
  ["sent B", "num", f => f.bytesSent],
  ["received B", "num", f => f.bytesReceived],
  ["cwnd", "num", f => f.cwndPackets],
  ["flight", "num", f => f.flightSizePackets],
  ["srtt µs", "num", f => f.srttUs],
  ["retrans", "num", f => f.retransmittedPackets],
  ["timeouts", "num", f => f.timeouts],
  ["send queue B", "num", f => f.sendQueueBytes],
  ["duration s", "num", f => (f.durationNs / 1e9).toFixed(3)],
  ["state", "text", f => f.caState],
];
let sortColumn = 3, sortAscending = false, lastFlows = [];

function el(name, attrs, parent) {
  const ns = ["svg", "path", "line", "text", "g", "rect"].includes(name) ? "http://www.w3.org/2000/svg" : null;
  const e = ns ? document.createElementNS(ns, name) : document.createElement(name);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function label(s) {
  const keys = Object.keys(s.labels || {});
  return keys.length ? keys.map(k => s.labels[k]).join(" ") : s.family;
}

function duration(ns) {
  if (ns < 1e3) return ns + " ns";
  if (ns < 1e6) return (ns / 1e3).toPrecision(3) + " µs";
  if (ns < 1e9) return (ns / 1e6).toPrecision(3) + " ms";
  return (ns / 1e9).toPrecision(3) + " s";
}

// One plot per family: x = latency (log2 scale over the power-of-two bucket bounds), y = fraction ≤ x.
function plotFamily(container, family, series) {
  const W = 460, H = 260, L = 40, R = 10, T = 10, B = 30;
  const box = el("div", {class: "plot", "data-family": family}, container);
  el("h3", {}, box).textContent = family + " (" + series.length + " series)";
  const svg = el("svg", {width: W, height: H}, box);
  const withData = series.filter(s => s.count > 0);
  let lo = 40, hi = 0;
  for (const s of withData) {
    const first = s.buckets.findIndex(b => b.cumulativeCount > 0);
    const last = s.buckets.findIndex(b => b.cumulativeCount >= s.count);
    lo = Math.min(lo, Math.max(0, first - 1));
    hi = Math.max(hi, last < 0 ? s.buckets.length - 1 : last);
  }
  if (hi <= lo) { lo = 0; hi = 23; }
  const x = i => L + (W - L - R) * (i - lo) / Math.max(1, hi - lo);
  const y = f => T + (H - T - B) * (1 - f);
  el("line", {x1: L, y1: y(0), x2: W - R, y2: y(0), stroke: "#999"}, svg);
  el("line", {x1: L, y1: y(0), x2: L, y2: y(1), stroke: "#999"}, svg);
  for (const f of [0, 0.5, 0.9, 0.99, 1]) {
    el("line", {x1: L, y1: y(f), x2: W - R, y2: y(f), stroke: "#eee"}, svg);
    if (f !== 0.99) el("text", {x: 2, y: y(f) + 3}, svg).textContent = f.toString();
  }
  const bounds = (series[0] || {buckets: []}).buckets;
  for (let i = lo; i <= hi; i += Math.max(1, Math.ceil((hi - lo) / 6))) {
    if (bounds[i]) el("text", {x: x(i) - 14, y: H - 12}, svg).textContent = duration(bounds[i].upperBoundNs);
  }
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    let d = "", points = 0;
    if (s.count > 0) {
      for (let i = lo; i <= hi; i++) {
        const f = s.buckets[i].cumulativeCount / s.count;
        d += (points ? "L" : "M") + x(i).toFixed(1) + "," + y(f).toFixed(1);
        points++;
      }
    }
    el("path", {class: "cdf", d: d, fill: "none", stroke: color, "stroke-width": 2,
                "data-series": label(s), "data-points": points, "data-count": s.count}, svg);
    const legend = el("text", {x: W - R - 4, y: H - B - 8 - 12 * (series.length - 1 - k), fill: color, "text-anchor": "end"}, svg);
    legend.textContent = label(s) + "  n=" + s.count + (s.count ? "  p50 " + duration(s.p50Ns) + "  p99 " + duration(s.p99Ns) : "");
    legend.setAttribute("style", "fill:" + color);
  });
}

function plots(containerId, byFamily) {
  const c = document.getElementById(containerId);
  c.textContent = "";
  const families = Object.keys(byFamily);
  if (!families.length) { el("div", {class: "empty"}, c).textContent = "no latency reports registered"; return 0; }
  let n = 0;
  for (const f of families) { plotFamily(c, f, byFamily[f]); n += byFamily[f].filter(s => s.count > 0).length; }
  return n;
}

function renderFlows() {
  const table = document.getElementById("flows");
  const head = table.tHead, body = table.tBodies[0];
  head.textContent = ""; body.textContent = "";
  const tr = el("tr", {}, head);
  FLOW_COLUMNS.forEach(([name, kind], i) => {
    const th = el("th", {class: kind + (i === sortColumn ? " sorted" + (sortAscending ? " asc" : "") : "")}, tr);
    th.textContent = name;
    th.onclick = () => { sortAscending = i === sortColumn ? !sortAscending : kind === "text"; sortColumn = i; renderFlows(); };
  });
  const get = FLOW_COLUMNS[sortColumn][2], numeric = FLOW_COLUMNS[sortColumn][1] === "num";
  const rows = lastFlows.slice().sort((a, b) => {
    const va = get(a), vb = get(b);
    const c = numeric ? Number(va) - Number(vb) : String(va).localeCompare(String(vb));
    return sortAscending ? c : -c;
  });
  for (const f of rows) {
    const r = el("tr", {class: "flow"}, body);
    for (const [, kind, g] of FLOW_COLUMNS) el("td", {class: kind}, r).textContent = g(f);
  }
}

async function json(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

async function refresh() {
  try {
    const [latency, netlat, flows] = await Promise.all([json("api/latency"), json("api/netlat"), json("api/flows?limit=500")]);
    const n = plots("latency", latency) + plots("netlat", netlat);
    lastFlows = flows.flows;
    document.getElementById("flowcount").textContent = "(" + flows.flows.length + " of " + flows.total + " live" +
        (flows.available ? "" : ", ack probe not installed") + ")";
    renderFlows();
    document.body.dataset.seriesWithData = n;
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString() + " · " + n + " latency series with data";
  } catch (e) {
    document.getElementById("status").textContent = "error: " + e.message;
  }
}

refresh();
setInterval(refresh, 2000);
