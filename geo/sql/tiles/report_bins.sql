-- Below zoom 12, the citizen_reports layer of tile (z, x, y): report_cells summed per bin of a
-- %(bins)s x %(bins)s grid over the tile, one point per occupied bin with the count of reports and
-- of open and resolved ones. Cells are tiles of zoom %(cell_zoom)s (17, or their sums per zoom-14
-- tile where a bin holds whole ones), so a tile of zoom z is 2^(cell_zoom - z) cells across and
-- each bin a whole number of them (exact: the counts of a tile sum to its reports). The point is
-- the count-weighted centre of the bin's cells, in tile units. Cost: the occupied cells under the
-- tile, whatever the number of reports. Same scalar-subquery shape as tiles/layer.sql.
(SELECT ST_AsMVT(mvt, {layer_name}, %(extent)s::integer, 'geom', 'id')
 FROM (
     SELECT (c.x - g.x0) / g.per_bin * %(bins)s::integer + (c.y - g.y0) / g.per_bin AS id,
            sum(c.reports)::integer AS count,
            sum(c.open_reports)::integer AS open,
            sum(c.resolved_reports)::integer AS resolved,
            ST_MakePoint(round(sum((c.x - g.x0 + 0.5) * c.reports) * g.unit / sum(c.reports)),
                         round(sum((c.y - g.y0 + 0.5) * c.reports) * g.unit / sum(c.reports))) AS geom
     FROM (
         SELECT %(x)s::integer << (%(cell_zoom)s::integer - %(z)s::integer) AS x0,
                %(y)s::integer << (%(cell_zoom)s::integer - %(z)s::integer) AS y0,
                1 << (%(cell_zoom)s::integer - %(z)s::integer) AS across,
                (1 << (%(cell_zoom)s::integer - %(z)s::integer)) / %(bins)s::integer AS per_bin,
                %(extent)s::float8 / (1 << (%(cell_zoom)s::integer - %(z)s::integer)) AS unit
     ) AS g
     JOIN {table} AS c
       ON c.zoom = %(cell_zoom)s::integer
      AND c.geom && ST_Transform(ST_TileEnvelope(%(z)s::integer, %(x)s::integer, %(y)s::integer), 4326)
      AND c.x >= g.x0 AND c.x < g.x0 + g.across AND c.y >= g.y0 AND c.y < g.y0 + g.across
     GROUP BY (c.x - g.x0) / g.per_bin, (c.y - g.y0) / g.per_bin, g.per_bin, g.x0, g.y0, g.unit
 ) AS mvt)
