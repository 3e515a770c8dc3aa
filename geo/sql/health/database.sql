-- What /healthz reports about the database.
SELECT version() AS postgresql, postgis_lib_version() AS postgis, current_database() AS database
