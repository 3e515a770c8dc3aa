/* HueGIS: the scripts of pygeoapi's HTML pages, out of the pages so that the Content-Security-Policy
   allows no inline script. Each page says what it needs with an element id and a JSON data block
   (templates/_data.html); feature text is always inserted as text, never as HTML. */
(function () {
  'use strict';

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function basemapMap(elementId, basemap) {
    var map = L.map(elementId).setView([16.46, 107.59], 10);
    map.addLayer(huegisBasemap(basemap.url, {maxZoom: 18, attribution: basemap.attribution}));
    return map;
  }

  /* A link to the item's page, its label as text. */
  function itemLink(href, label) {
    var span = document.createElement('span');
    var link = document.createElement('a');
    link.href = href;
    link.textContent = label === undefined || label === null ? '' : String(label);
    span.appendChild(link);
    return span;
  }

  function itemsMap(page) {
    var map = basemapMap('items-map', page.basemap);
    var items = L.geoJSON(page.features, {
      onEachFeature: function (feature, layer) {
        var label = page.title_field ? feature.properties[page.title_field] : feature.id;
        layer.bindPopup(itemLink(page.items_path + '/' + encodeURIComponent(feature.id) + '?f=html', label));
      }
    });
    var markers = L.markerClusterGroup({disableClusteringAtZoom: 9, chunkedLoading: true, chunkInterval: 500});
    markers.clearLayers().addLayer(items);
    map.addLayer(markers);
    map.fitBounds(items.getBounds());
  }

  function itemMap(page) {
    var map = basemapMap('items-map', page.basemap);
    var item = L.geoJSON(page.feature);
    map.addLayer(item);
    map.fitBounds(item.getBounds(), {maxZoom: 15});
  }

  function collectionMap(page) {
    var map = basemapMap('collection-map', page.basemap);
    page.wms.forEach(function (href) {
      L.tileLayer.wms(href, {opacity: 0.7, transparent: true, crs: L.CRS.EPSG4326}).addTo(map);
    });
    var b = page.bbox;
    var box = L.polygon([[b[1], b[0]], [b[3], b[0]], [b[3], b[2]], [b[1], b[2]]]);
    map.addLayer(box);
    map.fitBounds(box.getBounds(), {maxZoom: 10});
    bboxPicker(map);
  }

  /* Ctrl + drag draws a rectangle; a click on it shows its bbox= query parameter. */
  function bboxPicker(map) {
    var first, current, box, drawing = false;
    map.on('mousedown', function (e) {
      if (e.originalEvent.ctrlKey) {
        if (box && map.hasLayer(box)) { map.removeLayer(box); }
        map.dragging.disable();
        first = e.latlng;
        drawing = true;
      } else if (box && map.hasLayer(box) && !box.getBounds().contains(e.latlng)) {
        map.removeLayer(box);
      }
    });
    map.on('mousemove', function (e) {
      if (!drawing) { return; }
      if (current && map.hasLayer(current)) { map.removeLayer(current); }
      current = L.rectangle([first, e.latlng], {dashArray: '4 1', weight: 0.4}).addTo(map);
    });
    map.on('mouseup', function (e) {
      if (current && map.hasLayer(current)) { map.removeLayer(current); }
      if (e.originalEvent.ctrlKey && drawing) {
        box = L.rectangle([first, e.latlng], {color: '#ff7800', weight: 1}).addTo(map);
      }
      drawing = false;
      map.dragging.enable();
    });
    map.on('click', function () {
      if (box && map.hasLayer(box)) {
        L.popup({maxWidth: 'auto'}).setLatLng(box.getBounds().getCenter())
          .setContent(document.createTextNode('bbox=' + box.getBounds().toBBoxString())).addTo(map);
      }
    });
  }

  function pageLimit() {
    var select = document.getElementById('limits');
    if (!select) { return; }
    var params = new URL(document.location).searchParams;
    select.value = params.get('limit') || select.getElementsByTagName('option')[0].value;
    select.addEventListener('change', function (event) {
      document.location.search = 'limit=' + encodeURIComponent(event.target.value);
    });
  }

  /* The page's JSON-LD representation, embedded for search engines. */
  function embedJsonLd() {
    var request = new XMLHttpRequest();
    request.open('GET', window.location.pathname + '?f=jsonld');
    request.onload = function () {
      if (request.status === 200) {
        var block = document.createElement('script');
        block.type = 'application/ld+json';
        block.textContent = request.responseText.replace('docs/jsonldcontext.jsonld', '');
        document.head.appendChild(block);
      }
    };
    request.send();
  }

  function swagger(element) {
    window.ui = SwaggerUIBundle({
      url: element.dataset.url,
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: 'StandaloneLayout'
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    pageLimit();
    var items = data('items-data'), item = data('item-data'), collection = data('collection-data');
    if (items) { itemsMap(items); }
    if (item) { itemMap(item); }
    if (collection) { collectionMap(collection); }
    var swaggerElement = document.getElementById('swagger-ui');
    if (swaggerElement && swaggerElement.dataset.url) { swagger(swaggerElement); } else { embedJsonLd(); }
  });
}());
