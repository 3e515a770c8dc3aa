/* HueGIS basemap for pygeoapi's Leaflet maps: the platform's own vector tiles
   (/tiles/basemap/{z}/{x}/{y}.mvt) drawn by Leaflet.VectorGrid, so no raster tile server
   and no internet are needed. Land is the map's background colour (huegis.css). */
function huegisBasemap(url, options) {
  var roadColours = {national: '#e8923a', provincial: '#f2c36b', railway: '#6d6d6d'};
  var styles = {
    water_areas: {fill: true, fillColor: '#a9d3e8', fillOpacity: 1, stroke: false, weight: 0},
    admin_units: function (properties) {
      return properties.level === 'city'
        ? {weight: 2, color: '#5b2c6f', fill: false}
        : {weight: 0.8, color: '#9c89b8', dashArray: '4 3', fill: false};
    },
    rivers: {weight: 2, color: '#6fb1d6'},
    roads: function (properties) {
      return {
        weight: properties.road_class === 'railway' ? 1.5 : 2.5,
        color: roadColours[properties.road_class] || '#f2c36b',
        dashArray: properties.road_class === 'railway' ? '6 4' : null
      };
    },
    places: function (properties, zoom) {
      return zoom >= 11 ? {radius: 2, fill: true, fillColor: '#7a7a7a', fillOpacity: 1, stroke: false} : [];
    },
    admin_labels: []  /* VectorGrid draws no text */
  };
  var defaults = {
    vectorTileLayerStyles: styles,
    rendererFactory: L.canvas.tile,
    interactive: false,
    maxNativeZoom: 22,
    maxZoom: 22
  };
  return L.vectorGrid.protobuf(url, Object.assign(defaults, options || {}));
}
