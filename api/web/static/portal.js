// HueGIS public map portal: MapLibre GL over the platform's own vector tiles, reporting a
// problem (pin, category, description, photos) and following a report by its code.
// Everything is served by the platform itself: no CDN, no external tile or font server.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const config = JSON.parse(document.getElementById("portal-config").textContent);
const T = config.text;
const LANG = config.lang;
const LOCALE = LANG === "vi" ? "vi-VN" : "en-GB";
const HUE = [107.585, 16.463];
const STORE_KEY = "huegis.reports";
const REPORT_COLOURS = [
  "match", ["get", "status"],
  "received", "#f57c00", "assigned", "#f9a825", "in_progress", "#1565c0", "reopened", "#ad1457",
  "resolved", "#2e7d32", "closed", "#607d8b", "#9e9e9e",
];

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
const formatTime = (value) =>
  value ? new Date(value).toLocaleString(LOCALE, { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short" }) : "—";
const statusLabel = (status) => T.status[status] || status;
// crypto.randomUUID needs a secure context; an intranet http:// address is not one.
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

// --- the map ------------------------------------------------------------------------------

const map = new maplibregl.Map({
  container: "map",
  style: config.style,
  center: HUE,
  zoom: 11,
  minZoom: 7,
  maxZoom: 19,
  attributionControl: { compact: true },
});
map.addControl(new maplibregl.NavigationControl(), "top-left");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
window.portal = { map }; // for the browser tests and for debugging

const layersById = Object.fromEntries(config.layers.map((layer) => [layer.id, layer]));
const mapLayerIds = (layer) => layer.paint.map((paint) => paint.id);

function addOverlay(layer) {
  map.addSource(layer.id, {
    type: "vector",
    tiles: [`${location.origin}/tiles/${layer.id}/{z}/{x}/{y}.mvt`],
    minzoom: 0,
    maxzoom: 22,
  });
  for (const paint of layer.paint) {
    const spec = structuredClone(paint);
    if (layer.id === "citizen_reports" && spec.type === "circle") {
      spec.paint["circle-color"] = REPORT_COLOURS;
      spec.paint["circle-radius"] = ["interpolate", ["linear"], ["zoom"], 10, 3, 16, 7];
    }
    spec.layout = { ...(spec.layout || {}), visibility: layer.visible ? "visible" : "none" };
    map.addLayer(spec);
  }
}

function setVisible(layer, visible) {
  layer.visible = visible;
  for (const id of mapLayerIds(layer)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
}

function renderLayerList() {
  const list = $("layer-list");
  const groups = {};
  for (const layer of config.layers) (groups[layer.group] ||= []).push(layer);
  for (const [group, layers] of Object.entries(groups)) {
    const fieldset = el("fieldset", {}, el("legend", {}, T.groups[group] || group));
    for (const layer of layers) {
      const box = el("input", { type: "checkbox", id: `layer-${layer.id}`, "data-layer": layer.id });
      box.checked = layer.visible;
      box.addEventListener("change", () => setVisible(layer, box.checked));
      const swatch = el("i", { class: "swatch", style: `background:${layer.paint[0].paint["circle-color"] || layer.paint[0].paint["fill-color"] || layer.paint[0].paint["line-color"]}` });
      fieldset.append(el("label", { for: `layer-${layer.id}` }, box, swatch, LANG === "vi" ? layer.title_vi : layer.title));
    }
    list.append(fieldset);
  }
}

function visibleMapLayers() {
  return config.layers.filter((layer) => layer.visible).flatMap(mapLayerIds);
}

function showDetails(feature) {
  const layer = layersById[feature.layer.source];
  if (!layer) return;
  $("details").hidden = false;
  $("details-title").textContent = LANG === "vi" ? layer.title_vi : layer.title;
  const table = $("details-table");
  table.replaceChildren();
  for (const [key, value] of Object.entries(feature.properties)) {
    table.append(el("tr", {}, el("th", {}, key), el("td", {}, value === null ? "—" : value)));
  }
  const id = layer.id_field === "id" ? feature.id : feature.properties[layer.id_field];
  $("details-link").href = `/ogc/collections/${layer.id}/items/${encodeURIComponent(id)}?f=html`;
  if (layer.id === "citizen_reports" && feature.properties.code) $("follow-code").value = feature.properties.code;
}

map.on("load", () => {
  for (const layer of config.layers) addOverlay(layer);
  map.addSource("mine", { type: "geojson", data: myReportsGeoJSON() });
  map.addLayer({
    id: "mine",
    type: "circle",
    source: "mine",
    paint: { "circle-radius": 7, "circle-color": "#6a1b9a", "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
  });
  document.body.dataset.mapReady = "true";
});

map.on("click", (event) => {
  if (mode === "report") {
    setPin(event.lngLat);
    return;
  }
  const features = map.queryRenderedFeatures(event.point, { layers: visibleMapLayers().filter((id) => map.getLayer(id)) });
  if (features.length) showDetails(features[0]);
});

map.on("mousemove", (event) => {
  if (mode === "report") return;
  const hit = map.queryRenderedFeatures(event.point, { layers: visibleMapLayers().filter((id) => map.getLayer(id)) });
  map.getCanvas().style.cursor = hit.length ? "pointer" : "";
});

// --- panels -------------------------------------------------------------------------------

let mode = "layers";

function showPanel(name) {
  mode = name;
  for (const tab of document.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.panel === name));
  for (const section of document.querySelectorAll(".panel-section")) section.hidden = section.id !== `panel-${name}`;
  map.getCanvas().style.cursor = name === "report" ? "crosshair" : "";
  document.body.dataset.mode = name;
}
for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showPanel(tab.dataset.panel));

// --- report a problem ---------------------------------------------------------------------

let pin = null;
let categories = {};
let idempotencyKey = randomKey();

// A random id kept in this browser: the server limits submissions per device as well as per address.
function deviceId() {
  try {
    const id = localStorage.getItem("huegis-device-id") || randomKey();
    localStorage.setItem("huegis-device-id", id);
    return id;
  } catch {
    return randomKey();
  }
}

function setPin(lngLat) {
  if (!pin) {
    pin = new maplibregl.Marker({ color: "#c62828", draggable: true }).setLngLat(lngLat).addTo(map);
    pin.on("dragend", () => showPin(pin.getLngLat()));
  } else {
    pin.setLngLat(lngLat);
  }
  showPin(pin.getLngLat());
}

function showPin(lngLat) {
  $("location-value").textContent = `${T.pin}: ${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}`;
  document.body.dataset.pinned = "true";
}

$("use-location").addEventListener("click", () => {
  if (!navigator.geolocation) return showError("report-error", T.noLocation);
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const lngLat = { lng: position.coords.longitude, lat: position.coords.latitude };
      setPin(lngLat);
      map.flyTo({ center: lngLat, zoom: 16 });
    },
    () => showError("report-error", T.noLocation),
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

async function loadCategories() {
  const response = await fetch("/api/report-categories");
  if (!response.ok) return;
  const select = $("category");
  for (const category of await response.json()) {
    categories[category.code] = category;
    select.append(el("option", { value: category.code }, LANG === "vi" ? category.name_vi : category.name_en));
  }
}

$("category").addEventListener("change", () => {
  const category = categories[$("category").value];
  $("category-hint").textContent = category
    ? `${T.handledBy}: ${departmentName(category) || T.level[category.level] || category.level} · ${T.dueAt}: ${category.sla_hours} ${T.slaHours}`
    : "";
});

$("description").addEventListener("input", () => {
  $("description-count").textContent = $("description").value.length;
});

function departmentName(category) {
  return LANG === "vi" ? category.department_name_vi : category.department_name_en;
}

function showError(id, message) {
  const node = $(id);
  node.textContent = message;
  node.hidden = !message;
}

$("report-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("report-error", "");
  const form = $("report-form");
  const description = $("description").value.trim();
  const photos = Array.from($("photos").files);
  if (!pin) return showError("report-error", T.needLocation);
  if (!$("category").value) return showError("report-error", T.needCategory);
  if (description.length < 10 || description.length > 4000) return showError("report-error", T.needDescription);
  if (photos.length > 3 || photos.some((file) => !["image/jpeg", "image/png", "image/webp"].includes(file.type))) {
    return showError("report-error", T.tooManyPhotos);
  }
  const body = new FormData();
  const { lng, lat } = pin.getLngLat();
  body.append("category", $("category").value);
  body.append("description", description);
  body.append("lon", lng.toFixed(6));
  body.append("lat", lat.toFixed(6));
  body.append("channel", "web");
  for (const name of ["reporter_name", "reporter_phone", "reporter_email"]) {
    const value = form.elements[name].value.trim();
    if (value) body.append(name, value);
  }
  for (const photo of photos) body.append("photos", photo, photo.name);
  const button = $("report-submit");
  button.disabled = true;
  button.textContent = T.sending;
  try {
    const response = await fetch("/api/reports", { method: "POST", body, headers: { "Idempotency-Key": idempotencyKey, "X-Device-Id": deviceId() } });
    const result = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(result.detail ? (typeof result.detail === "string" ? result.detail : JSON.stringify(result.detail)) : response.statusText);
    reported(result, { lng, lat });
  } catch (error) {
    showError("report-error", `${T.failed}: ${error.message}`);
  } finally {
    button.disabled = false;
    button.textContent = T.send;
  }
});

function reported(result, lngLat) {
  idempotencyKey = randomKey();
  rememberReport({ code: result.code, token: result.follow_token, lon: lngLat.lng, lat: lngLat.lat, status: result.status });
  $("report-form").hidden = true;
  $("report-result").hidden = false;
  $("report-code").textContent = result.code;
  const unit = result.admin_unit ? result.admin_unit.name : "";
  $("report-summary").textContent = `${statusLabel(result.status)} · ${unit}${result.due_at ? ` · ${T.dueAt}: ${formatTime(result.due_at)}` : ""}`;
  if (pin) {
    pin.remove();
    pin = null;
  }
  map.getSource("mine")?.setData(myReportsGeoJSON());
}

$("report-again").addEventListener("click", () => {
  $("report-form").reset();
  $("description-count").textContent = "0";
  $("location-value").textContent = "";
  $("report-form").hidden = false;
  $("report-result").hidden = true;
});

$("follow-new").addEventListener("click", () => {
  $("follow-code").value = $("report-code").textContent;
  showPanel("follow");
  follow($("report-code").textContent);
});

// --- my reports (this browser only) -------------------------------------------------------

function myReports() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY)) || [];
  } catch {
    return [];
  }
}

function rememberReport(report) {
  const reports = myReports().filter((r) => r.code !== report.code);
  reports.unshift(report);
  localStorage.setItem(STORE_KEY, JSON.stringify(reports.slice(0, 20)));
  renderMyReports();
}

function myReportsGeoJSON() {
  return {
    type: "FeatureCollection",
    features: myReports().map((r) => ({ type: "Feature", geometry: { type: "Point", coordinates: [r.lon, r.lat] }, properties: { code: r.code } })),
  };
}

function renderMyReports() {
  const list = $("my-reports");
  list.replaceChildren();
  for (const report of myReports()) {
    list.append(el("li", {}, el("button", { type: "button", class: "link", onclick: () => { $("follow-code").value = report.code; follow(report.code); } }, report.code)));
  }
}

// --- follow a report ----------------------------------------------------------------------

let followMarker = null;

$("follow-form").addEventListener("submit", (event) => {
  event.preventDefault();
  follow($("follow-code").value.trim().toUpperCase());
});

async function follow(code) {
  showError("follow-error", "");
  $("follow-result").hidden = true;
  const response = await fetch(`/api/reports/${encodeURIComponent(code)}`);
  if (response.status === 404 || response.status === 422) return showError("follow-error", T.notFound);
  if (!response.ok) return showError("follow-error", `${T.failed}: ${response.status}`);
  renderReport(await response.json());
}

function renderReport(report) {
  $("follow-result").hidden = false;
  $("follow-result-code").textContent = report.code;
  const status = $("follow-status");
  status.textContent = statusLabel(report.status);
  status.dataset.status = report.status;
  const category = categories[report.category];
  const facts = [
    [T.category, category ? (LANG === "vi" ? category.name_vi : category.name_en) : report.category],
    [T.handledBy, [report.admin_unit?.name, report.department].filter(Boolean).join(" · ") || "—"],
    [T.priority, T.priorities[report.priority] || report.priority],
    [T.receivedAt, formatTime(report.received_at)],
    [T.dueAt, formatTime(report.due_at)],
    [T.resolvedAt, formatTime(report.resolved_at)],
    [T.result, report.result_note || "—"],
    [T.rating, report.rating ? "★".repeat(report.rating) : "—"],
  ];
  $("follow-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  $("follow-photos").replaceChildren(...(report.photos || []).map((url, i) => el("a", { href: url, target: "_blank" }, el("img", { src: url, alt: `${report.code} ${i + 1}`, loading: "lazy" }))));
  $("follow-timeline").replaceChildren(
    ...(report.timeline || []).map((step) =>
      el("li", {}, el("time", { datetime: step.at }, formatTime(step.at)), " ", el("strong", {}, statusLabel(step.to_status)), step.note ? ` — ${step.note}` : ""),
    ),
  );
  const mine = myReports().find((r) => r.code === report.code);
  $("rating-form").hidden = !(mine && mine.token && report.status === "resolved");
  $("rating-form").dataset.code = report.code;
  if (report.location) {
    const lngLat = [report.location.lon, report.location.lat];
    followMarker = followMarker || new maplibregl.Marker({ color: "#6a1b9a" });
    followMarker.setLngLat(lngLat).addTo(map);
    map.flyTo({ center: lngLat, zoom: Math.max(map.getZoom(), 15) });
  }
}

$("rating-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("rating-form").dataset.code;
  const mine = myReports().find((r) => r.code === code);
  const response = await fetch(`/api/reports/${encodeURIComponent(code)}/rating`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: mine.token, rating: Number($("rating").value) }),
  });
  if (response.ok) {
    $("rating-form").hidden = true;
    showError("follow-error", T.thanks);
    follow(code);
  }
});

renderLayerList();
renderMyReports();
loadCategories();
