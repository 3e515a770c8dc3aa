// HueIOC leaders' dashboard: every number comes from the platform's own API.
"use strict";

const LANG = document.body.dataset.lang || "vi";
const T = (vi, en) => (LANG === "vi" ? vi : en);
const OPEN = new Set(["received", "assigned", "in_progress", "reopened"]);
const pct = (x) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(1)} %`);
const num = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString(LANG === "vi" ? "vi-VN" : "en-GB"));

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function monthBounds(month) {
  const [y, m] = month.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  return { start: `${month}-01`, end: `${next}-01` };
}

function shiftMonth(month, delta) {
  const [y, m] = month.split("-").map(Number);
  const index = y * 12 + (m - 1) + delta;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

function setTile(id, value, previous, format, higherIsBetter = true) {
  const tile = document.getElementById(id);
  tile.querySelector(".value").textContent = format(value);
  const delta = tile.querySelector(".delta");
  delta.className = "delta";
  if (value === null || previous === null || previous === undefined || value === undefined) {
    delta.textContent = "";
    return;
  }
  const diff = value - previous;
  delta.textContent = `${diff >= 0 ? "▲" : "▼"} ${format(Math.abs(diff))} ${T("so với tháng trước", "vs previous month")}`;
  if (diff !== 0) delta.classList.add((diff > 0) === higherIsBetter ? "up" : "down");
}

async function loadHeadline(month) {
  const { start, end } = monthBounds(month);
  const body = await getJSON(`/api/kpis?start=${start}&end=${end}`);
  const k = body.groups[0] || {};
  const p = (body.previous && body.previous.groups[0]) || {};
  setTile("tile-received", k.received, p.received, num);
  setTile("tile-processed", k.processed_share, p.processed_share, pct);
  setTile("tile-on-time", k.on_time_share, p.on_time_share, pct);
  setTile("tile-satisfied", k.satisfied_share, p.satisfied_share, pct);
  const backlog = document.getElementById("tile-backlog");
  backlog.querySelector(".value").textContent = `${num(k.backlog)} (${num(k.overdue)})`;
  try {
    const calls = await getJSON(`/api/hotline/stats?from=${start}&to=${end}&by=month`);
    const total = calls.totals;
    document.querySelector("#tile-calls .value").textContent = `${num(total.in)} / ${num(total.out)}`;
    document.querySelector("#tile-calls .delta").textContent =
      `${pct(total.report_share)} ${T("thành phản ánh", "became reports")}`;
  } catch (error) {
    document.querySelector("#tile-calls .value").textContent = "—";
  }
}

function drawTrend(groups) {
  const svg = document.getElementById("trend");
  const W = 640, H = 220, L = 40, R = 40, TOP = 10, B = 30;
  const maxReceived = Math.max(1, ...groups.map((g) => g.received));
  const x = (i) => L + (i * (W - L - R)) / Math.max(1, groups.length - 1);
  const yShare = (s) => TOP + (1 - s) * (H - TOP - B);
  const yCount = (c) => TOP + (1 - c / maxReceived) * (H - TOP - B);
  const bars = groups.map((g, i) => {
    const width = Math.max(4, (W - L - R) / groups.length - 6);
    return `<rect x="${x(i) - width / 2}" y="${yCount(g.received)}" width="${width}" height="${H - B - yCount(g.received)}" fill="#e0e0e0"><title>${g.key}: ${g.received}</title></rect>`;
  });
  const line = (field, colour) => {
    const points = groups
      .map((g, i) => (g[field] === null ? null : `${x(i)},${yShare(g[field])}`))
      .filter(Boolean)
      .join(" ");
    return `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2.5"/>`;
  };
  const labels = groups.map((g, i) => `<text x="${x(i)}" y="${H - 10}" font-size="10" text-anchor="middle">${g.key.slice(2)}</text>`);
  const axis = [0, 0.5, 1].map((s) => `<text x="${W - R + 4}" y="${yShare(s) + 4}" font-size="10">${s * 100}%</text>`);
  svg.innerHTML = [...bars, line("processed_share", "#1565c0"), line("on_time_share", "#ef6c00"),
    line("satisfied_share", "#2e7d32"), ...labels, ...axis,
    `<text x="2" y="${TOP + 8}" font-size="10">${maxReceived}</text>`].join("");
}

async function loadTrend(month) {
  const start = monthBounds(shiftMonth(month, -11)).start;
  const end = monthBounds(month).end;
  const body = await getJSON(`/api/kpis?start=${start}&end=${end}&group_by=month&compare=false`);
  drawTrend(body.groups);
}

const map = L.map("map", { preferCanvas: true }).setView([16.35, 107.6], 9);
let unitsLayer = null;
const unitsPromise = getJSON("/api/admin-units.geojson?tolerance_m=60");

function colour(share) {
  if (share === null || share === undefined) return "#cfd8dc";
  const stops = ["#b71c1c", "#e64a19", "#f9a825", "#9ccc65", "#2e7d32"];
  return stops[Math.min(stops.length - 1, Math.floor(share * stops.length))];
}

async function loadMap(month) {
  const { start, end } = monthBounds(month);
  const [units, kpis] = await Promise.all([unitsPromise, getJSON(`/api/kpis?start=${start}&end=${end}&group_by=unit&compare=false`)]);
  const byUnit = Object.fromEntries(kpis.groups.map((g) => [g.key, g]));
  if (unitsLayer) unitsLayer.remove();
  unitsLayer = L.geoJSON(units, {
    style: (f) => ({ color: "#455a64", weight: 1, fillOpacity: 0.75, fillColor: colour((byUnit[f.properties.code] || {}).on_time_share) }),
    onEachFeature: (f, layer) => {
      const k = byUnit[f.properties.code] || {};
      layer.bindTooltip(`<b>${f.properties.name}</b><br>${T("Tiếp nhận", "Received")}: ${num(k.received || 0)}<br>` +
        `${T("Đúng hạn", "On time")}: ${pct(k.on_time_share)}<br>${T("Hài lòng", "Satisfied")}: ${pct(k.satisfied_share)}`);
      layer.on("click", () => showUnit(f.properties.code, f.properties.name, month));
    },
  }).addTo(map);
  map.fitBounds(unitsLayer.getBounds());
  document.getElementById("map").dataset.units = String(units.features.length);
}

async function loadBottlenecks(month) {
  const list = document.getElementById("bottlenecks");
  const at = monthBounds(month).end;
  const body = await getJSON(`/api/bottlenecks?at=${at}`);
  list.innerHTML = "";
  if (!body.flags.length) {
    list.innerHTML = `<li class="muted">${T("Không phát hiện điểm nghẽn.", "No bottleneck detected.")}</li>`;
    return;
  }
  for (const flag of body.flags) {
    const item = document.createElement("li");
    item.textContent = LANG === "vi" ? flag.message_vi : flag.message_en;
    item.dataset.handler = flag.handler;
    if (/^\d{5}$/.test(flag.handler)) item.addEventListener("click", () => showUnit(flag.handler, flag.name_vi, month));
    list.appendChild(item);
  }
}

async function showUnit(code, name, month) {
  const panel = document.getElementById("unit");
  panel.hidden = false;
  document.getElementById("unit-title").textContent = `${name} (${code})`;
  const body = await getJSON(`/api/kpis/units/${code}?month=${month}`);
  const k = body.kpis || {};
  const rows = [
    [T("Tiếp nhận", "Received"), num(k.received)], [T("Đã xử lý", "Processed"), pct(k.processed_share)],
    [T("Đúng hạn", "On time"), pct(k.on_time_share)], [T("Trễ có gia hạn", "Late, extension approved"), pct(k.late_with_extension_share)],
    [T("Hài lòng", "Satisfied"), pct(k.satisfied_share)], [T("Tồn đọng / quá hạn", "Backlog / overdue"), `${num(k.backlog)} / ${num(k.overdue)}`],
    [T("Trung vị giờ xử lý", "Median hours to resolve"), k.median_hours_to_resolve === null ? "—" : Number(k.median_hours_to_resolve).toFixed(1)],
  ];
  document.getElementById("unit-kpis").innerHTML = rows.map(([label, value]) => `<tr><td>${label}</td><td><b>${value}</b></td></tr>`).join("");
  const reports = await getJSON(`/api/reports?unit=${code}&limit=300`);
  const open = reports.features.filter((f) => OPEN.has(f.properties.status)).slice(0, 30);
  document.getElementById("unit-queue").innerHTML = open.length
    ? open.map((f) => `<li><a href="/api/reports/${f.id}">${f.id}</a> · ${f.properties.category} · ${f.properties.status} · ${T("hạn", "due")} ${(f.properties.due_at || "").slice(0, 10)}</li>`).join("")
    : `<li class="muted">${T("Không có phản ánh tồn đọng gần đây.", "No recent open reports.")}</li>`;
  panel.scrollIntoView({ behavior: "smooth" });
}

async function loadMonth(month) {
  await Promise.all([loadHeadline(month), loadTrend(month), loadMap(month), loadBottlenecks(month)]);
  document.body.dataset.ready = month;
}

async function init() {
  const today = new Date();
  const start = `${today.getFullYear() - 2}-${String(today.getMonth() + 1).padStart(2, "0")}-01`;
  const tomorrow = new Date(today.getTime() + 86400000).toISOString().slice(0, 10);
  const body = await getJSON(`/api/kpis?start=${start}&end=${tomorrow}&group_by=month&compare=false`);
  const months = body.groups.filter((g) => g.received > 0).map((g) => g.key).reverse();
  const select = document.getElementById("month");
  const fallback = today.toISOString().slice(0, 7);
  for (const m of months.length ? months : [fallback]) select.add(new Option(m, m));
  select.addEventListener("change", () => loadMonth(select.value));
  await loadMonth(select.value);
}

init().catch((error) => {
  document.body.dataset.error = String(error);
  console.error(error);
});
