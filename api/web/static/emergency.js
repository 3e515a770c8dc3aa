// Emergency view: Leaflet map of the zones in force, what they expose and the reports inside.
// Everything comes from this server (no CDN): the platform's vector basemap (Leaflet.VectorGrid),
// the zones and their exposure embedded in the page, raster tiles from /tiles/raster.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("emergency-data").textContent);
  const vi = data.lang === "vi";
  // minZoom: zoomed out no further than the basemap's sea reaches (it runs on past the city).
  const map = L.map("map", { preferCanvas: true, zoomControl: false, minZoom: 8 }).setView([16.46, 107.59], 10);
  L.control.zoom({ zoomInTitle: vi ? "Phóng to" : "Zoom in", zoomOutTitle: vi ? "Thu nhỏ" : "Zoom out" }).addTo(map);
  map.attributionControl.setPrefix("Leaflet").addAttribution(escapeHtml(data.attribution));  // the registry's credits
  L.control.scale({ imperial: false }).addTo(map);
  huegisBasemap(data.basemap, { maxZoom: 18 }).addTo(map);

  const colours = { Extreme: "#6a0000", Severe: "#c62828", Moderate: "#ef6c00", Minor: "#f9a825", Unknown: "#777" };
  const kinds = {
    health_facilities: "#c62828",
    schools: "#1565c0",
    tourism_sites: "#8e24aa",
    open_reports: "#2e7d32",
  };
  const zoneLayers = {};
  const bounds = L.latLngBounds([]);
  for (const item of data.zones) {
    const f = item.feature;
    const p = f.properties;
    const drill = p.status !== "Actual";
    const layer = L.geoJSON(f, {
      style: { color: colours[p.severity] || "#777", weight: 2, fillOpacity: drill ? 0.08 : 0.25, dashArray: drill ? "6 4" : null },
    }).bindPopup(
      `<b>${escapeHtml(vi ? p.headline_vi : p.headline_en)}</b><br>` +
        `${escapeHtml(data.labels.severity[p.severity] || p.severity)} · ${escapeHtml(data.labels.urgency[p.urgency] || p.urgency)}` +
        (drill ? ` · ${escapeHtml(data.text.drill)}` : ""),
    );
    layer.addTo(map);
    zoneLayers[f.id] = layer;
    bounds.extend(layer.getBounds());
    for (const [key, colour] of Object.entries(kinds)) {
      for (const row of item.exposure[key] || []) {
        if (!row.geometry) continue;
        const [lon, lat] = row.geometry.coordinates;
        const name = (vi && row.name_vi) || row.name || row.code || "";
        L.circleMarker([lat, lon], { radius: 5, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.9 })
          .bindPopup(`${escapeHtml(data.text[key])}: ${escapeHtml(name)}`)
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
  document.body.dataset.mapReady = "true";

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
})();
