// Lets MapLibre read PMTiles archives (a basemap exported by `huegis tiles export` and put on a
// static host): sources with "url": "pmtiles://<archive URL>" are read by HTTP range requests.
// Load /static/vendor/pmtiles/pmtiles.js (a classic script: the global `pmtiles`) before this
// module, and this module before the page's map: ES modules run in document order and share the
// one maplibre-gl module instance.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";

const protocol = new pmtiles.Protocol();
maplibregl.addProtocol("pmtiles", protocol.tile);
