-- The log of one import: who, when, what file, and its validation report.
INSERT INTO layer_imports (layer_id, mode, file_name, source, licence, crs, transformation, rows_read,
                           rows_imported, rows_rejected, report, actor, role)
VALUES (%(layer_id)s, %(mode)s, %(file_name)s, %(source)s, %(licence)s, %(crs)s, %(transformation)s, %(rows_read)s,
        %(rows_imported)s, %(rows_rejected)s, %(report)s, %(actor)s, %(role)s)
RETURNING id, imported_at
