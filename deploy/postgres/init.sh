#!/bin/sh
# One PostgreSQL for deploy/compose.yaml: a database and an owner each for Hydra and Kratos,
# with the passwords from the environment. The postgres image runs this once, when its data
# volume is empty (/docker-entrypoint-initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v hydra_password="$HYDRA_DB_PASSWORD" -v kratos_password="$KRATOS_DB_PASSWORD" <<'SQL'
CREATE ROLE hydra LOGIN PASSWORD :'hydra_password';
CREATE DATABASE hydra OWNER hydra;
CREATE ROLE kratos LOGIN PASSWORD :'kratos_password';
CREATE DATABASE kratos OWNER kratos;
SQL
