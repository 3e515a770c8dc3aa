// HueIOC leaders' dashboard: every number comes from the platform's own API.
// The page opens on the current month so far, compared with the same days of the previous month
// (like for like): leaders watch this month while it runs, and a whole previous month against
// a few days would mislead. Each period is seen as long after its start as the other (the API's
// as_of), so neither has had more time to process its reports.
"use strict";

const LANG = document.body.dataset.lang || "vi";
const LOCALE = LANG === "vi" ? "vi-VN" : "en-US";
// Dates day first in English too ("6 Dec 2026"): "12/6/26" reads as 12 June outside the US.
const DATE_LOCALE = LANG === "vi" ? "vi-VN" : "en-GB";
const HUE = "Asia/Ho_Chi_Minh";
const dateFormat = new Intl.DateTimeFormat(DATE_LOCALE, { day: "numeric", month: LANG === "vi" ? "numeric" : "short", year: "numeric", timeZone: HUE });
const timeFormat = new Intl.DateTimeFormat(DATE_LOCALE, { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: HUE });
const T = (vi, en) => (LANG === "vi" ? vi : en);
const OPEN = new Set(["received", "assigned", "in_progress", "reopened"]);
const numberFormat = new Intl.NumberFormat(LOCALE);
const shareFormat = new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
const pct = (x) => (x === null || x === undefined ? "—" : shareFormat.format(x));
const num = (x) => (x === null || x === undefined ? "—" : numberFormat.format(x));
const points = (x) => `${new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(100 * x)} ${T("điểm %", "pts")}`;
const HISTORY_START = "2019-01";
const STOPS = ["#b71c1c", "#e64a19", "#f9a825", "#7cb342", "#2e7d32"];
const state = { categories: {}, period: null, units: null };

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// --- periods (dates are Huế days, YYYY-MM-DD) ---------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");
const today = () => new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });
const thisMonth = () => today().slice(0, 7);
function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
function shiftMonth(month, delta) {
  const [y, m] = month.split("-").map(Number);
  const index = y * 12 + (m - 1) + delta;
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
}
const monthStart = (month) => `${month}-01`;
const monthEnd = (month) => monthStart(shiftMonth(month, 1));
const monthName = (month) =>
  new Date(`${month}-15T00:00:00Z`).toLocaleDateString(DATE_LOCALE, { month: "long", year: "numeric", timeZone: "UTC" });
const dayName = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(DATE_LOCALE, { day: "numeric", month: LANG === "vi" ? "numeric" : "short", timeZone: "UTC" });

// The selected month. The API compares it with the month before, seen as long after its start
// (previous.as_of): the running month with the same days, each with the same time to process.
function periodOf(month) {
  const running = month === thisMonth();
  return {
    month, start: monthStart(month), end: running ? addDays(today(), 1) : monthEnd(month), running,
    versus: running ? T("so với cùng kỳ tháng trước", "vs the same days last month") : T("so với tháng trước", "vs previous month"),
  };
}

// The Huế day of an instant, and "1–6/12" (vi) or "1–6 Dec" (en) for the days of a month up to it.
const dayOf = (instant) => new Date(instant).toLocaleDateString("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });
function daysUpTo(month, instant) {
  const last = [dayOf(instant), addDays(monthEnd(month), -1)].sort()[0];
  const n = Number(last.slice(8));
  const when = new Date(`${month}-15T00:00:00Z`).toLocaleDateString(DATE_LOCALE, { month: LANG === "vi" ? "numeric" : "short", timeZone: "UTC" });
  return LANG === "vi" ? `${n > 1 ? "1–" : ""}${n}/${Number(month.slice(5))}` : `${n > 1 ? "1–" : ""}${n} ${when}`;
}

// What is compared, in words, from the API's own periods, instants and working days.
function comparisonNote(period, body) {
  const previous = body.previous.period.start.slice(0, 7);
  const [mine, theirs] = [body.period.working_days, body.previous.period.working_days];
  if (period.running) {
    const day = Number(dayOf(body.as_of).slice(8));
    const [a, b] = [daysUpTo(period.month, body.as_of), daysUpTo(previous, body.previous.as_of)];
    // Offices close at weekends: the same calendar days may hold fewer working days to process in.
    if (mine !== theirs) {
      return T(`${a} so với cùng kỳ tháng trước (${b}), mỗi kỳ tính đến ngày ${day} của tháng: cùng số ngày nhưng ${mine} ngày làm việc so với ${theirs}, nên tỷ lệ xử lý chưa hoàn toàn tương đương.`,
               `${a} vs ${b}, each as of day ${day}: the same days, but ${mine} working days vs ${theirs}, so the processed shares are not quite like for like.`);
    }
    return T(`${a} so với cùng kỳ tháng trước (${b}), mỗi kỳ tính đến ngày ${day} của tháng: cùng số ngày (mỗi kỳ ${mine} ngày làm việc) và cùng thời gian để xử lý.`,
             `${a} vs ${b}, each as of day ${day}: the same days (${mine} working days each) and the same time to process them.`);
  }
  return T(`${monthName(period.month)} so với ${monthName(previous)} (${mine} và ${theirs} ngày làm việc).`,
           `${monthName(period.month)} vs ${monthName(previous)} (${mine} and ${theirs} working days).`);
}

// --- headline -----------------------------------------------------------------------------------

function setTile(id, value, previous, format, diffFormat, higherIsBetter = true) {
  const tile = document.getElementById(id);
  tile.querySelector(".value").textContent = format(value);
  const delta = tile.querySelector(".delta");
  delta.className = "delta";
  if (value === null || value === undefined || previous === null || previous === undefined) {
    delta.textContent = "";
    return;
  }
  const diff = value - previous;
  delta.textContent = `${diff > 0 ? "▲" : diff < 0 ? "▼" : "="} ${diffFormat(Math.abs(diff))} ${state.period.versus}`;
  if (diff !== 0) delta.classList.add((diff > 0) === higherIsBetter ? "up" : "down");
}

async function loadHeadline(period) {
  const body = await getJSON(`/api/kpis?month=${period.month}`);
  const k = body.groups[0] || {};
  const p = body.previous.groups[0] || {};
  setTile("tile-received", k.received, p.received, num, num);
  setTile("tile-processed", k.processed_share, p.processed_share, pct, points);
  setTile("tile-on-time", k.on_time_share, p.on_time_share, pct, points);
  setTile("tile-satisfied", k.satisfied_share, p.satisfied_share, pct, points);
  document.querySelector("#tile-backlog .value").textContent = `${num(k.backlog)} / ${num(k.overdue)}`;
  document.querySelector("#tile-backlog .delta").textContent = T("của các phản ánh nhận trong kỳ", "of the reports received in the period");
  const note = document.getElementById("period-note");
  note.textContent = comparisonNote(period, body);
  Object.assign(note.dataset, { asOf: body.as_of, previousAsOf: body.previous.as_of });
  try {
    const calls = await getJSON(`/api/hotline/stats?from=${period.start}&to=${period.end}&by=month`);
    const total = calls.totals;
    document.querySelector("#tile-calls .value").textContent = `${num(total.in)} / ${num(total.out)}`;
    document.querySelector("#tile-calls .delta").textContent = `${pct(total.report_share)} ${T("thành phản ánh", "became reports")}`;
  } catch {
    document.querySelector("#tile-calls .value").textContent = "—";
    document.querySelector("#tile-calls .delta").textContent = T("không tải được số liệu tổng đài", "hotline figures could not be loaded");
  }
  return k;
}

// --- 12-month trend -----------------------------------------------------------------------------

// A running month is partial ("so far"): a dashed last segment, open markers and a label, so a few
// days beside whole months do not read as a collapse.
function drawTrend(months, byKey, selected, partial) {
  const svg = document.getElementById("trend");
  const W = 640, H = 220, L = 48, R = 44, TOP = 10, B = 30;
  const groups = months.map((m) => byKey[m] || { key: m, received: 0 });
  const maxReceived = Math.max(1, ...groups.map((g) => g.received));
  const x = (i) => L + (i * (W - L - R)) / Math.max(1, groups.length - 1);
  const yShare = (s) => TOP + (1 - s) * (H - TOP - B);
  const yCount = (c) => TOP + (1 - c / maxReceived) * (H - TOP - B);
  const width = Math.max(4, (W - L - R) / groups.length - 6);
  const bars = groups.map((g, i) => {
    const fill = g.key === selected ? "#b39ddb" : "#d6d6d6";
    const open = g.key === partial ? ` fill-opacity="0.45" stroke="#7e57c2" stroke-dasharray="4 3" class="partial"` : "";
    const title = `${monthName(g.key)}${g.key === partial ? T(" (đến nay)", " (so far)") : ""}: ${num(g.received)}`;
    return `<rect x="${x(i) - width / 2}" y="${yCount(g.received)}" width="${width}" height="${H - B - yCount(g.received)}" fill="${fill}"${open}><title>${title}</title></rect>`;
  });
  // A month without reports has no share: the line breaks there instead of falling to 0 %.
  const known = (g, field) => g[field] !== null && g[field] !== undefined;
  const line = (field, colour) => {
    const segments = [[]];
    groups.forEach((g, i) => {
      if (g[field] === null || g[field] === undefined || g.key === partial) segments.push([]);
      else segments[segments.length - 1].push(`${x(i)},${yShare(g[field])}`);
    });
    const whole = segments.filter((s) => s.length).map((s) => `<polyline points="${s.join(" ")}" fill="none" stroke="${colour}" stroke-width="2.5"/>`);
    const i = groups.findIndex((g) => g.key === partial);
    if (i < 0 || !known(groups[i], field)) return whole.join("");
    const [px, py] = [x(i), yShare(groups[i][field])];
    const dashed = i > 0 && known(groups[i - 1], field)
      ? `<polyline class="partial" points="${x(i - 1)},${yShare(groups[i - 1][field])} ${px},${py}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="5 4"/>` : "";
    return [...whole, dashed, `<circle class="partial" cx="${px}" cy="${py}" r="4" fill="#fff" stroke="${colour}" stroke-width="2"/>`].join("");
  };
  const labels = groups.map((g, i) => `<text x="${x(i)}" y="${H - 17}" font-size="10" text-anchor="middle" fill="#333">${g.key.slice(5)}/${g.key.slice(2, 4)}</text>` +
    (g.key === partial ? `<text class="partial-label" x="${x(i)}" y="${H - 5}" font-size="9" text-anchor="middle" fill="#5b2c6f">${T("đến nay", "so far")}</text>` : ""));
  const axis = [0, 0.5, 1].map((s) => `<text x="${W - R + 4}" y="${yShare(s) + 4}" font-size="10" fill="#333">${shareFormat.format(s).replace(/[,.]0/, "")}</text>`);
  svg.innerHTML = [...bars, line("processed_share", "#1565c0"), line("on_time_share", "#e65100"),
    line("satisfied_share", "#2e7d32"), ...labels, ...axis,
    `<text x="2" y="${TOP + 8}" font-size="10" fill="#333">${num(maxReceived)}</text>`].join("");
  svg.dataset.partial = partial || "";
}

async function loadTrend(period) {
  const months = Array.from({ length: 12 }, (_, i) => shiftMonth(period.month, i - 11));
  const body = await getJSON(`/api/kpis?start=${monthStart(months[0])}&end=${period.end}&group_by=month&compare=false`);
  drawTrend(months, Object.fromEntries(body.groups.map((g) => [g.key, g])), period.month, period.running ? period.month : null);
}

// --- ward map -----------------------------------------------------------------------------------

const map = L.map("map", { preferCanvas: true, zoomControl: false }).setView([16.35, 107.6], 9);
L.control.zoom({ zoomInTitle: T("Phóng to", "Zoom in"), zoomOutTitle: T("Thu nhỏ", "Zoom out") }).addTo(map);
map.attributionControl.setPrefix("Leaflet").addAttribution(escapeHtml(document.getElementById("map").dataset.attribution));
L.control.scale({ imperial: false }).addTo(map);
let unitsLayer = null;
const unitsPromise = getJSON("/api/admin-units.geojson?tolerance_m=60");

function colour(share) {
  if (share === null || share === undefined) return "#cfd8dc";
  return STOPS[Math.min(STOPS.length - 1, Math.floor(share * STOPS.length))];
}

function drawLegend() {
  const items = STOPS.map((stop, i) => `<li><i style="background:${stop}"></i>${i * 20}–${(i + 1) * 20} %</li>`);
  items.push(`<li><i style="background:#cfd8dc"></i>${T("chưa có phản ánh được giải quyết", "no report resolved yet")}</li>`);
  document.getElementById("map-legend").innerHTML = `<strong>${T("Tỷ lệ đúng hạn", "On-time share")}</strong><ul>${items.join("")}</ul>`;
}

async function loadMap(period) {
  const [units, kpis] = await Promise.all([unitsPromise, getJSON(`/api/kpis?start=${period.start}&end=${period.end}&group_by=unit&compare=false`)]);
  const byUnit = Object.fromEntries(kpis.groups.map((g) => [g.key, g]));
  if (unitsLayer) unitsLayer.remove();
  unitsLayer = L.geoJSON(units, {
    style: (f) => ({ color: "#37474f", weight: 1, fillOpacity: 0.75, fillColor: colour((byUnit[f.properties.code] || {}).on_time_share) }),
    onEachFeature: (f, layer) => {
      const k = byUnit[f.properties.code] || {};
      layer.bindTooltip(`<b>${escapeHtml(f.properties.name)}</b><br>${T("Tiếp nhận", "Received")}: ${num(k.received || 0)}<br>` +
        `${T("Đúng hạn", "On time")}: ${pct(k.on_time_share)}<br>${T("Hài lòng", "Satisfied")}: ${pct(k.satisfied_share)}`);
      layer.on("click", () => showUnit(f.properties.code, f.properties.name));
    },
  }).addTo(map);
  if (!state.units) map.fitBounds(unitsLayer.getBounds());
  state.units = units;
  document.getElementById("map").dataset.units = String(units.features.length);
}

// --- bottlenecks for the selected period ----------------------------------------------------------

async function loadBottlenecks(period, headline) {
  const list = document.getElementById("bottlenecks");
  const end = period.running ? new Date().toISOString() : `${period.end}T00:00:00+07:00`;
  const days = Math.round((Date.parse(period.end) - Date.parse(period.start)) / 86400000);
  const body = await getJSON(`/api/bottlenecks?at=${encodeURIComponent(end)}&window_days=${Math.max(7, days)}`);
  list.innerHTML = "";
  // Usually from the bottleneck job's table: say when it was computed, and the real days of the
  // window it judged (at least 7 days, so early in a month it reaches back into the month before).
  const stamp = (instant) => `${dateFormat.format(new Date(instant))} ${timeFormat.format(new Date(instant))}`;
  const span = body.settings.window_days;
  const until = Date.parse(body.as_of);
  const since = until - span * 86400000;
  // A window ending at a Huế midnight is whole days; the running one ends now, at a time of day.
  const midnight = timeFormat.format(new Date(until)) === "00:00";
  const first = midnight ? dayName(dayOf(since)) : `${dayName(dayOf(since))} ${timeFormat.format(new Date(since))}`;
  const last = midnight ? dateFormat.format(new Date(until - 1)) : stamp(until);
  const short = span > days;
  const note = document.getElementById("bottleneck-note");
  note.textContent = T(
    `Các phản ánh nhận từ ${first} đến ${last} (${span} ngày${short ? ", khoảng ngắn nhất được kiểm định" : ""}), so với chính đơn vị năm trước và các đơn vị cùng cấp. Tính lúc ${stamp(body.computed_at)}.`,
    `Reports received from ${first} to ${last} (${span} days${short ? ", the shortest window tested" : ""}), against the unit's own past year and its peers. Computed ${stamp(body.computed_at)}.`);
  Object.assign(note.dataset, { asOf: body.as_of, windowDays: String(span) });
  if (!body.flags.length) {
    const overdue = headline.overdue ? T(` Hiện có ${num(headline.overdue)} phản ánh của kỳ này đang quá hạn.`, ` ${num(headline.overdue)} reports of this period are overdue now.`) : "";
    list.innerHTML = `<li class="muted">${T("Không đơn vị nào chậm hơn rõ rệt so với năm trước và các đơn vị cùng cấp.", "No unit is markedly slower than its past year and its peers.")}${overdue}</li>`;
    return;
  }
  for (const flag of body.flags) {
    const item = document.createElement("li");
    item.textContent = LANG === "vi" ? flag.message_vi : flag.message_en;
    item.dataset.handler = flag.handler;
    if (/^\d{5}$/.test(flag.handler)) {
      item.tabIndex = 0;
      item.addEventListener("click", () => showUnit(flag.handler, flag.name_vi));
    }
    list.appendChild(item);
  }
}

// --- one ward/commune, for the selected period --------------------------------------------------

async function showUnit(code, name) {
  const period = state.period;
  const panel = document.getElementById("unit");
  panel.hidden = false;
  Object.assign(panel.dataset, { code, name }); // a new month re-opens the same unit
  document.getElementById("unit-title").textContent = `${name} — ${monthName(period.month)}${period.running ? T(" (đến nay)", " (so far)") : ""}`;
  const last = addDays(period.end, -1);
  const [body, items] = await Promise.all([
    getJSON(`/api/kpis/units/${code}?start=${period.start}&end=${period.end}`),
    getJSON(`/ogc/collections/citizen_reports/items?f=json&skipGeometry=true&limit=10000&admin_unit_code=${code}` +
            `&properties=category,status,priority,received_at,due_at&datetime=${period.start}T00:00:00%2B07:00/${last}T23:59:59%2B07:00`),
  ]);
  const k = body.kpis || {};
  const rows = [
    [T("Tiếp nhận", "Received"), num(k.received)], [T("Đã xử lý", "Processed"), pct(k.processed_share)],
    [T("Đúng hạn", "On time"), pct(k.on_time_share)], [T("Trễ có gia hạn", "Late, extension approved"), pct(k.late_with_extension_share)],
    [T("Hài lòng", "Satisfied"), pct(k.satisfied_share)], [T("Tồn đọng / quá hạn", "Backlog / overdue"), `${num(k.backlog)} / ${num(k.overdue)}`],
    [T("Trung vị giờ xử lý", "Median hours to resolve"), k.median_hours_to_resolve === null || k.median_hours_to_resolve === undefined ? "—" : new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 }).format(k.median_hours_to_resolve)],
  ];
  document.getElementById("unit-kpis").innerHTML = rows.map(([label, value]) => `<tr><th scope="row">${label}</th><td><b>${value}</b></td></tr>`).join("");
  // The same reports as the backlog figure: received in the period, still open; overdue first.
  const now = Date.now();
  const open = items.features.filter((f) => OPEN.has(f.properties.status));
  open.sort((a, b) => Date.parse(a.properties.due_at) - Date.parse(b.properties.due_at));
  const overdue = open.filter((f) => Date.parse(f.properties.due_at) < now).length;
  document.getElementById("unit-queue-title").textContent = T(`Phản ánh chưa xử lý nhận trong kỳ: ${num(open.length)} (quá hạn ${num(overdue)})`,
    `Open reports received in the period: ${num(open.length)} (${num(overdue)} overdue)`);
  document.getElementById("unit-queue").innerHTML = open.length
    ? open.map((f) => {
        const p = f.properties;
        const late = Date.parse(p.due_at) < now ? ` class="overdue"` : "";
        const category = state.categories[p.category] || p.category;
        const due = dateFormat.format(new Date(p.due_at));
        return `<li${late}><a href="/api/reports/${encodeURIComponent(f.id)}">${escapeHtml(f.id)}</a> · ${escapeHtml(category)} · ${escapeHtml(STATUS[p.status] || p.status)} · ${T("hạn", "due")} ${due}</li>`;
      }).join("")
    : `<li class="muted">${T("Không có phản ánh tồn đọng trong kỳ.", "No open report from this period.")}</li>`;
  panel.dataset.backlog = String(open.length);
  panel.dataset.overdue = String(overdue);
  panel.scrollIntoView({ behavior: "smooth" });
}

const STATUS = {
  received: T("Đã tiếp nhận", "Received"), assigned: T("Đã chuyển xử lý", "Assigned"),
  in_progress: T("Đang xử lý", "In progress"), reopened: T("Mở lại", "Reopened"),
};

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// --- the month picker ---------------------------------------------------------------------------

async function loadPeriod(month) {
  state.period = periodOf(month);
  document.body.dataset.ready = "";
  const headline = await loadHeadline(state.period);
  await Promise.all([loadTrend(state.period), loadMap(state.period), loadBottlenecks(state.period, headline)]);
  const unit = document.getElementById("unit");
  if (!unit.hidden && unit.dataset.code) await showUnit(unit.dataset.code, unit.dataset.name);
  document.body.dataset.ready = month;
}

async function init() {
  drawLegend();
  const categories = await getJSON("/api/report-categories");
  state.categories = Object.fromEntries(categories.map((c) => [c.code, LANG === "vi" ? c.name_vi : c.name_en]));
  const select = document.getElementById("month");
  // Every month from the first report to this one, newest first: the picker and the trend agree.
  const months = [];
  for (let m = thisMonth(); m >= HISTORY_START; m = shiftMonth(m, -1)) months.push(m);
  for (const m of months) select.add(new Option(m === thisMonth() ? `${monthName(m)} ${T("(đến nay)", "(so far)")}` : monthName(m), m));
  select.addEventListener("change", () => loadPeriod(select.value));
  await loadPeriod(select.value);
}

init().catch((error) => {
  document.body.dataset.error = String(error);
  console.error(error);
});
