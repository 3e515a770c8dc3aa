// Emergency view: Leaflet map of the active zones, what they expose and the reports inside.
// Everything comes from this server (no CDN, no external basemap): the ward outlines and water
// from /ogc, the zones and their exposure embedded in the page, raster tiles from /tiles/raster.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("emergency-data").textContent);
  const vi = data.lang === "vi";
  const map = L.map("map", { preferCanvas: true }).setView([16.46, 107.59], 10);
  map.attributionControl.addAttribution("HueGIS · GSHHG · GeoNames CC BY 4.0");

  function addOgc(collection, style) {
    return fetch(`/ogc/collections/${collection}/items?f=json&limit=1000`)
      .then((r) => r.json())
      .then((fc) => L.geoJSON(fc, { style: style, interactive: false }).addTo(map).bringToBack());
  }
  addOgc("water_areas", { color: "#4fc3f7", weight: 0.5, fillOpacity: 0.5 });
  addOgc("admin_units", { color: "#555", weight: 0.8, fill: false });

  const colours = { Extreme: "#6a0000", Severe: "#c62828", Moderate: "#ef6c00", Minor: "#f9a825", Unknown: "#777" };
  const kinds = {
    health_facilities: { colour: "#c62828", vi: "Cơ sở y tế", en: "Health facility" },
    schools: { colour: "#1565c0", vi: "Trường học", en: "School" },
    tourism_sites: { colour: "#8e24aa", vi: "Điểm du lịch", en: "Tourism site" },
    open_reports: { colour: "#2e7d32", vi: "Phản ánh", en: "Report" },
  };
  const zoneLayers = {};
  const bounds = L.latLngBounds([]);
  for (const item of data.zones) {
    const f = item.feature;
    const p = f.properties;
    const layer = L.geoJSON(f, {
      style: { color: colours[p.severity] || "#777", weight: 2, fillOpacity: 0.25, dashArray: p.status === "Actual" ? null : "6 4" },
    }).bindPopup(`<b>${escapeHtml(vi ? p.headline_vi : p.headline_en)}</b><br>${p.severity} · ${p.urgency} · ${p.status}`);
    layer.addTo(map);
    zoneLayers[f.id] = layer;
    bounds.extend(layer.getBounds());
    for (const [key, kind] of Object.entries(kinds)) {
      for (const row of item.exposure[key] || []) {
        if (!row.geometry) continue;
        const [lon, lat] = row.geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 5, color: kind.colour, weight: 1, fillOpacity: 0.8 })
          .bindPopup(`${vi ? kind.vi : kind.en}: ${escapeHtml(row.name || row.code || "")}`)
          .addTo(map);
      }
    }
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });

  document.querySelectorAll(".zone").forEach((section) => {
    section.addEventListener("click", () => {
      const layer = zoneLayers[section.dataset.zone];
      if (layer) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
    });
  });

  let overlay = null;
  document.getElementById("raster").addEventListener("change", (event) => {
    if (overlay) map.removeLayer(overlay);
    overlay = null;
    const name = event.target.value;
    if (!name) return;
    const [w, s, e, n] = event.target.selectedOptions[0].dataset.bbox.split(",").map(Number);
    // Bounds keep Leaflet from asking for tiles the raster does not cover (they would be 404s).
    overlay = L.tileLayer(`/tiles/raster/${name}/{z}/{x}/{y}.png`, { opacity: 0.75, bounds: [[s, w], [n, e]], maxZoom: 18 });
    overlay.addTo(map);
  });

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
})();
