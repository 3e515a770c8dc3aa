// HueGIS public map portal: MapLibre GL over the platform's own vector tiles, reporting a
// problem (pin, category, description, photos) and following a report by its code.
// Everything is served by the platform itself: no CDN, no external tile or font server.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const config = JSON.parse(document.getElementById("portal-config").textContent);
const T = config.text;
const LABELS = config.labels;
const LANG = config.lang;
const LOCALE = config.locale;
const HUE = [107.585, 16.463];
const CODES_KEY = "huegis.reports"; // report codes and places of this browser (no secrets)
const TOKENS_KEY = "huegis.tokens"; // follow tokens: this tab's session only, never kept on disk
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
const STATUS_COLOURS = {
  received: "#e65100", assigned: "#f9a825", in_progress: "#1565c0", reopened: "#ad1457",
  resolved: "#2e7d32", closed: "#607d8b", rejected: "#6d4c41", duplicate: "#9e9e9e",
};
const REPORT_COLOUR = ["match", ["get", "status"], ...Object.entries(STATUS_COLOURS).flat(), "#9e9e9e"];
const REPORT_FIELDS = "category,status,priority,admin_unit_code,received_at,resolved_at";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
const numberFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const formatNumber = (value) => numberFormat.format(value);
const formatTime = (value) =>
  value ? new Date(value).toLocaleString(LOCALE, { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short" }) : "—";
const formatDate = (value) => new Date(`${value}T00:00:00+07:00`).toLocaleDateString(LOCALE, { timeZone: "Asia/Ho_Chi_Minh" });
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
  locale: config.mapText, // the controls' titles in the page's language
});
map.addControl(new maplibregl.NavigationControl(), "top-left");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
window.portal = { map }; // for the browser tests and for debugging
// The view stays where the basemap has data (the sea runs on to these bounds): no edge of it shows.
map.once("style.load", () => map.setMaxBounds(map.getStyle().sources.basemap.bounds));

const layersById = Object.fromEntries(config.layers.map((layer) => [layer.id, layer]));
// Layers fed as GeoJSON: the open and recent reports (clustered), the zones in force now.
const GEOJSON = { citizen_reports: true, disaster_zones: true };
const mapLayerIds = (layer) =>
  layer.id === "citizen_reports" ? ["reports-clusters", "reports-count", "reports-points"] : layer.paint.map((paint) => paint.id);

function addOverlay(layer) {
  const visibility = layer.visible ? "visible" : "none";
  if (layer.id === "citizen_reports") return addReports(visibility);
  if (GEOJSON[layer.id]) {
    map.addSource(layer.id, { type: "geojson", data: "/feeds/disasters.geojson?status=Actual" }); // real warnings only
  } else {
    map.addSource(layer.id, { type: "vector", tiles: [`${location.origin}/tiles/${layer.id}/{z}/{x}/{y}.mvt`], minzoom: 0, maxzoom: 22 });
  }
  for (const paint of layer.paint) {
    const spec = structuredClone(paint);
    if (GEOJSON[layer.id]) delete spec["source-layer"];
    spec.layout = { ...(spec.layout || {}), visibility };
    map.addLayer(spec);
  }
}

function addReports(visibility) {
  map.addSource("citizen_reports", { type: "geojson", data: { type: "FeatureCollection", features: [] }, cluster: true, clusterMaxZoom: 14, clusterRadius: 40 });
  map.addLayer({
    id: "reports-clusters", type: "circle", source: "citizen_reports", filter: ["has", "point_count"], layout: { visibility },
    paint: { "circle-color": "#5b2c6f", "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
             "circle-radius": ["step", ["get", "point_count"], 14, 50, 18, 200, 24] },
  });
  map.addLayer({
    id: "reports-count", type: "symbol", source: "citizen_reports", filter: ["has", "point_count"],
    layout: { visibility, "text-field": ["get", "point_count_abbreviated"], "text-size": 12 },
    paint: { "text-color": "#fff" },
  });
  map.addLayer({
    id: "reports-points", type: "circle", source: "citizen_reports", filter: ["!", ["has", "point_count"]], layout: { visibility },
    paint: { "circle-color": REPORT_COLOUR, "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 4, 17, 8],
             "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 },
  });
  loadReports();
}

async function loadReports() {
  const since = new Date(Date.now() - config.recentDays * 86400000).toISOString().slice(0, 10);
  const base = `/ogc/collections/citizen_reports/items?f=json&limit=10000&properties=${REPORT_FIELDS}`;
  const urls = [`${base}&datetime=${since}/..`, ...config.openStatuses.map((status) => `${base}&status=${status}`)];
  const pages = await Promise.all(urls.map((url) => fetch(url).then((r) => (r.ok ? r.json() : { features: [] }))));
  const byCode = new Map();
  for (const page of pages) for (const feature of page.features) byCode.set(feature.id, { ...feature, properties: { ...feature.properties, code: feature.id } });
  map.getSource("citizen_reports").setData({ type: "FeatureCollection", features: [...byCode.values()] });
  document.body.dataset.reports = String(byCode.size);
}

function setVisible(layer, visible) {
  layer.visible = visible;
  for (const id of mapLayerIds(layer)) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
}

function swatchColour(layer) {
  const paint = layer.paint[0].paint;
  return paint["circle-color"] || paint["fill-color"] || paint["line-color"];
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
      const swatch = el("i", { class: "swatch" });
      swatch.style.background = layer.id === "citizen_reports" ? STATUS_COLOURS.in_progress : swatchColour(layer);
      fieldset.append(el("label", { for: `layer-${layer.id}` }, box, swatch, LANG === "vi" ? layer.title_vi : layer.title));
      if (layer.id === "citizen_reports") fieldset.append(reportsLegend());
      if (layer.id === "disaster_zones") fieldset.append(el("p", { class: "legend-note" }, T.zonesLegend));
    }
    list.append(fieldset);
  }
}

function reportsLegend() {
  const items = ["received", "assigned", "in_progress", "reopened", "resolved", "closed"].map((status) => {
    const dot = el("i", { class: "dot" });
    dot.style.background = STATUS_COLOURS[status];
    return el("li", {}, dot, statusLabel(status));
  });
  return el("div", { class: "legend", id: "reports-legend" }, el("p", { class: "legend-note" }, T.reportsLegend), el("ul", {}, ...items));
}

function visibleMapLayers() {
  return config.layers.filter((layer) => layer.visible).flatMap(mapLayerIds).filter((id) => map.getLayer(id));
}

// --- details in words -----------------------------------------------------------------------

function valueText(field, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (field === "category" && categories[value]) return LANG === "vi" ? categories[value].name_vi : categories[value].name_en;
  const words = LABELS.values[field];
  if (words && words[String(value)] !== undefined) return words[String(value)];
  if (typeof value === "boolean") return value ? T.yes : T.no;
  if (typeof value === "number") return formatNumber(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDate(value);
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) return formatTime(value);
  return String(value);
}

function showDetails(feature) {
  const layer = layersById[feature.source];
  if (!layer) return;
  $("details-title").textContent = LANG === "vi" ? layer.title_vi : layer.title;
  const rows = [];
  for (const [key, value] of Object.entries(feature.properties)) {
    if (LABELS.hidden.includes(key) || key.startsWith("point_") || key.endsWith(LANG === "vi" ? "_en" : "_vi")) continue;
    rows.push(el("tr", {}, el("th", { scope: "row" }, LABELS.fields[key] || key), el("td", {}, valueText(key, value))));
  }
  $("details-table").replaceChildren(...rows);
  const id = layer.id_field === "id" || layer.id === "citizen_reports" ? feature.id ?? feature.properties.code : feature.properties[layer.id_field];
  $("details-link").href = `/ogc/collections/${layer.id}/items/${encodeURIComponent(id)}?f=html&lang=${LANG}`;
  if (layer.id === "citizen_reports" && feature.properties.code) $("follow-code").value = feature.properties.code;
  $("details").hidden = false;
  document.body.dataset.details = layer.id;
}

$("details-close").addEventListener("click", () => {
  $("details").hidden = true;
  delete document.body.dataset.details;
});

map.on("load", () => {
  for (const layer of config.layers) addOverlay(layer);
  map.addSource("mine", { type: "geojson", data: myReportsGeoJSON() });
  map.addLayer({
    id: "mine", type: "circle", source: "mine",
    paint: { "circle-radius": 7, "circle-color": "#6a1b9a", "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
  });
  document.body.dataset.mapReady = "true";
});

map.on("click", async (event) => {
  if (mode === "report") {
    setPin(event.lngLat);
    return;
  }
  // The topmost feature under the finger: a point drawn over a zone wins, as the eye expects.
  const features = map.queryRenderedFeatures(event.point, { layers: visibleMapLayers() });
  if (!features.length) return;
  const top = features[0];
  if (top.properties.cluster) {
    const zoom = await map.getSource("citizen_reports").getClusterExpansionZoom(top.properties.cluster_id);
    map.easeTo({ center: top.geometry.coordinates, zoom });
    return;
  }
  showDetails(top);
});

map.on("mousemove", (event) => {
  if (mode === "report") return;
  const hit = map.queryRenderedFeatures(event.point, { layers: visibleMapLayers() });
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
  $("details").hidden = true;
}
for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showPanel(tab.dataset.panel));

// --- report a problem ---------------------------------------------------------------------

let pin = null;
let pinInside = null; // the ward/commune under the pin, false outside the city, null not known yet
const categories = {};
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

async function showPin(lngLat) {
  $("location-value").textContent = `${T.pin}: ${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}`;
  document.body.dataset.pinned = "true";
  pinInside = null;
  const response = await fetch(`/api/admin-units/at?lon=${lngLat.lng}&lat=${lngLat.lat}`);
  pinInside = response.ok ? (await response.json()).name || true : response.status === 404 ? false : null;
  if (pinInside) $("location-value").textContent += ` · ${pinInside}`;
  fieldError("location", pinInside === false ? T.errors.outside_city : "");
  refresh("location");
}

$("use-location").addEventListener("click", () => {
  if (!navigator.geolocation) return fieldError("location", T.noLocation);
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const lngLat = { lng: position.coords.longitude, lat: position.coords.latitude };
      setPin(lngLat);
      map.flyTo({ center: lngLat, zoom: 16 });
    },
    () => fieldError("location", T.noLocation),
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
    ? `${T.handledBy}: ${departmentName(category) || T.level[category.level] || category.level} · ${T.dueAt}: ${formatNumber(category.sla_hours)} ${T.slaHours}`
    : "";
});

$("description-max").textContent = formatNumber(4000);
$("description").addEventListener("input", () => {
  $("description-count").textContent = formatNumber($("description").value.length);
});

function departmentName(category) {
  return LANG === "vi" ? category.department_name_vi : category.department_name_en;
}

const FIELD_CONTROLS = { location: "use-location", category: "category", description: "description", photos: "photos" };

function fieldError(field, message) {
  const node = $(`${field}-error`);
  node.textContent = message;
  node.hidden = !message;
  const control = $(FIELD_CONTROLS[field]);
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
}

function showProblems(problems) {
  for (const field of Object.keys(FIELD_CONTROLS)) fieldError(field, problems.filter((p) => p.field === field).map((p) => p.text).join(" "));
  // Contact details: the very input the server named, inside the contact section opened to show it.
  const contact = problems.filter((p) => p.input);
  showError("contact-error", contact.map((p) => p.text).join(" "));
  for (const input of $("contact").querySelectorAll("input")) {
    if (contact.some((p) => p.input === input.name)) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  if (contact.length) $("contact").open = true;
  const box = $("report-error");
  box.replaceChildren();
  box.hidden = !problems.length;
  if (problems.length) box.append(el("p", {}, T.fix), el("ul", {}, ...problems.map((p) => el("li", {}, p.text))));
}

// A refusal: the summary scrolled into view and focused (on a phone the form sits under the map, the
// summary at the bottom of the screen), so a screen reader and the eye both start at the list.
function refuse(problems) {
  shown = { server: problems.filter((p) => !p.client), edited: new Set() };
  showProblems(problems);
  const box = $("report-error");
  if (box.hidden) return;
  box.scrollIntoView({ block: "start" });
  box.focus({ preventScroll: true });
}

// After a refusal, the summary follows the form: a problem goes as soon as its field is fixed.
// The server's own findings stay until their field is edited (only the server can check them again).
let shown = null;
function refresh(field) {
  if (!shown) return;
  if (field) shown.edited.add(field);
  const client = problemsOf($("description").value.trim(), Array.from($("photos").files));
  const known = new Set(client.map((p) => `${p.code}/${p.input || p.field}`));
  const server = shown.server.filter((p) => !shown.edited.has(p.input || p.field) && !known.has(`${p.code}/${p.input || p.field}`));
  showProblems([...client, ...server]);
}

const FIELD_OF_CONTROL = Object.fromEntries(Object.entries(FIELD_CONTROLS).map(([field, id]) => [id, field]));
for (const type of ["input", "change"]) {
  $("report-form").addEventListener(type, (event) => refresh(FIELD_OF_CONTROL[event.target.id] || event.target.name));
}

// The server's phone and e-mail rules (geo/reports/intake.py), whole-value matches.
const CONTACT_RULES = Object.fromEntries(Object.entries(config.contactPatterns).map(([name, rule]) => [name, new RegExp(`^(?:${rule})$`)]));
const CONTACT_CODES = ["contact_length", "phone_invalid", "email_invalid"];

// Every problem the browser can see before anything is sent, all at once.
function problemsOf(description, photos) {
  const problems = [];
  const add = (field, code) => problems.push({ field, code, text: T.errors[code], client: true });
  if (!pin) add("location", "location");
  else if (pinInside === false) add("location", "outside_city");
  if (!$("category").value) add("category", "unknown_category");
  if (description.length < 10 || description.length > 4000) add("description", "description_length");
  if (photos.length > config.photoMaxCount) add("photos", "too_many_photos");
  if (photos.some((file) => !IMAGE_TYPES.includes(file.type))) add("photos", "photo_type");
  if (photos.some((file) => file.size > config.photoMaxBytes)) add("photos", "photo_too_large");
  for (const [name, code] of [["reporter_phone", "phone_invalid"], ["reporter_email", "email_invalid"]]) {
    const value = $("report-form").elements[name].value.trim();
    if (value && !CONTACT_RULES[name].test(value)) problems.push({ field: null, input: name, code, text: T.errors[code], client: true });
  }
  return problems;
}

const FIELD_OF = { outside_city: "location", unknown_category: "category", description_length: "description",
                   too_many_photos: "photos", photo_type: "photos", photo_too_large: "photos", photo_pixels: "photos" };

// The server's refusal: every problem it names (a code each, with its vi/en text), all at once.
function refusals(status, body) {
  if (status === 503) return [{ field: null, text: T.unavailable }];
  const fallback = status === 413 ? "too_large" : status === 429 ? "rate_limited" : "other";
  const problems = body.errors || [{ code: body.code || fallback }];
  return problems.map((p) => ({
    field: FIELD_OF[p.code] || null,
    input: CONTACT_CODES.includes(p.code) ? p.field : null,
    code: p.code,
    text: T.errors[p.code] || p[LANG] || T.errors.other,
  }));
}

$("report-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("report-form");
  const description = $("description").value.trim();
  const photos = Array.from($("photos").files);
  const problems = problemsOf(description, photos);
  if (problems.length) return refuse(problems);
  showProblems([]);
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
    if (!response.ok) return refuse(refusals(response.status, result));
    reported(result, { lng, lat });
  } catch {
    refuse([{ field: null, text: T.unavailable }]);
  } finally {
    button.disabled = false;
    button.textContent = T.send;
  }
});

function reported(result, lngLat) {
  idempotencyKey = randomKey();
  shown = null;
  rememberReport({ code: result.code, lon: lngLat.lng, lat: lngLat.lat }, result.follow_token);
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
  shown = null;
  showProblems([]);
  $("report-form").hidden = false;
  $("report-result").hidden = true;
});

$("follow-new").addEventListener("click", () => {
  $("follow-code").value = $("report-code").textContent;
  showPanel("follow");
  follow($("report-code").textContent);
});

// --- my reports: codes in this browser, follow tokens for this session only ------------------

function read(storage, key, fallback) {
  try {
    return JSON.parse(storage.getItem(key)) || fallback;
  } catch {
    return fallback;
  }
}

function myReports() {
  // Entries kept by earlier versions held the follow token too: keep the code and place only.
  return read(localStorage, CODES_KEY, []).map(({ code, lon, lat }) => ({ code, lon, lat }));
}

function tokenOf(code) {
  return read(sessionStorage, TOKENS_KEY, {})[code];
}

function rememberReport(report, token) {
  const reports = myReports().filter((r) => r.code !== report.code);
  reports.unshift(report);
  try {
    localStorage.setItem(CODES_KEY, JSON.stringify(reports.slice(0, 20)));
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify({ ...read(sessionStorage, TOKENS_KEY, {}), [report.code]: token }));
  } catch {
    /* private browsing: the code is on screen */
  }
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
    const button = el("button", { type: "button", class: "link" }, report.code);
    button.addEventListener("click", () => {
      $("follow-code").value = report.code;
      follow(report.code);
    });
    list.append(el("li", {}, button));
  }
}
try {
  localStorage.setItem(CODES_KEY, JSON.stringify(myReports())); // drop tokens stored by earlier versions
} catch {
  /* storage unavailable */
}

// --- follow a report ----------------------------------------------------------------------

let followMarker = null;

$("follow-form").addEventListener("submit", (event) => {
  event.preventDefault();
  follow($("follow-code").value.trim().toUpperCase());
});

function showError(id, message) {
  const node = $(id);
  node.textContent = message;
  node.hidden = !message;
}

async function follow(code) {
  showError("follow-error", "");
  $("follow-code").removeAttribute("aria-invalid");
  $("follow-result").hidden = true;
  const response = await fetch(`/api/reports/${encodeURIComponent(code)}`);
  if (response.status === 422) {  // not a report code at all: say what one looks like
    $("follow-code").setAttribute("aria-invalid", "true");
    return showError("follow-error", refusals(422, await response.json()).map((p) => p.text).join(" "));
  }
  if (response.status === 404) return showError("follow-error", T.notFound);
  if (!response.ok) return showError("follow-error", T.unavailable);
  renderReport(await response.json());
}

function handler(report) {
  const unit = report.admin_unit?.name;
  const department = report.department ? LABELS.values.department[report.department] || report.department : null;
  return [unit, department].filter(Boolean).join(" · ") || "—";
}

function renderReport(report) {
  $("follow-result").hidden = false;
  $("follow-result-code").textContent = report.code;
  const status = $("follow-status");
  status.textContent = statusLabel(report.status);
  status.dataset.status = report.status;
  const category = LANG === "vi" ? report.category_name_vi : report.category_name_en;
  const facts = [
    [T.category, category || valueText("category", report.category)],
    [T.handledBy, handler(report)],
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
    ...(report.timeline || []).map((step) => {
      // The intake's note is for staff ("Routed to …"): say where it went in the reader's words.
      const note = step.action === "receive" ? `${T.routedTo}: ${handler(report)}` : step.note;
      return el("li", {}, el("time", { datetime: step.at }, formatTime(step.at)), " ",
        el("strong", {}, T.actions[step.action] || statusLabel(step.to_status)), note ? ` — ${note}` : "");
    }),
  );
  $("rating-form").hidden = !(tokenOf(report.code) && report.status === "resolved");
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
  $("rating").removeAttribute("aria-invalid");
  showError("rating-error", "");
  const response = await fetch(`/api/reports/${encodeURIComponent(code)}/rating`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: tokenOf(code), rating: Number($("rating").value) }),
  });
  if (response.ok) {
    $("rating-form").hidden = true;
    showError("follow-error", T.thanks);
    follow(code);
    return;
  }
  const problems = refusals(response.status, await response.json().catch(() => ({})));
  $("rating").setAttribute("aria-invalid", "true");
  showError("rating-error", problems.map((p) => p.text).join(" "));
});

renderLayerList();
renderMyReports();
loadCategories();
