-- One row of "page" as compact GeoJSON Feature text, concatenated by PostgreSQL so Python never
-- parses it; "props" is the row of published properties (row_to_json writes compact JSON).
-- Placeholders: id (the id column), geometry (ST_AsGeoJSON text or 'null').
-- Literal braces are doubled: this is a psycopg.sql template.
'{{"type":"Feature","id":' || to_json(page.{id})::text
    || ',"geometry":' || {geometry}
    || ',"properties":' || row_to_json(props)::text || '}}'
