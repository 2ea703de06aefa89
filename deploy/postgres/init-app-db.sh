#!/bin/sh
# Run by the postgres image at the first start of an empty data volume: the application's own role and
# database. Temporal's databases belong to the superuser (POSTGRES_USER). Only the first start reads
# APP_DB_PASSWORD here; to change it later, ALTER ROLE as well.
set -e
: "${APP_DB_USER:?}" "${APP_DB_NAME:?}" "${APP_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v app_user="$APP_DB_USER" -v app_db="$APP_DB_NAME" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
SQL
