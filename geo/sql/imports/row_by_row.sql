-- The write again, one row at a time: a row the layer refuses (a CHECK, a foreign key, a value
-- too long) is marked rejected with PostgreSQL's reason and the others are written.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT row_no FROM import_stage WHERE rejected IS NULL ORDER BY row_no LOOP
        BEGIN
            {statements};
        EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
            UPDATE import_stage SET rejected = 'refused by the layer: ' || SQLERRM WHERE row_no = r.row_no;
        END;
    END LOOP;
END $$
