-- Tell every running app that the imported layers changed (delivered when the transaction commits).
SELECT pg_notify('huegis_layers', %(id)s)
