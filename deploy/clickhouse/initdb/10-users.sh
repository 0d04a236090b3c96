#!/bin/bash
# The ClickHouse users of docker-compose.yml, made once by the image's init
# scripts (/docker-entrypoint-initdb.d: run on the first start, when the data
# volume is empty, against a server listening on 127.0.0.1 only; see
# https://clickhouse.com/docs/install/docker "How to extend this image").
#
#   CLICKHOUSE_USER (admin) comes from the image's entrypoint, the only user with
#     access management (CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1): it runs this.
#   CLICKHOUSE_APP_USER (im), password CLICKHOUSE_APP_PASSWORD: the analytics
#     process. It reads, inserts and creates or alters the tables of
#     CLICKHOUSE_DB, nothing else: no access management, no other database.
#   CLICKHOUSE_READONLY_USER (grafana), password CLICKHOUSE_READONLY_PASSWORD:
#     Grafana's data source. SELECT on CLICKHOUSE_DB only, in a `readonly = 1`
#     settings profile in which only max_execution_time may change (the
#     ClickHouse data source sets it on every query: Grafana's "Prepare a
#     read-only ClickHouse user",
#     https://grafana.com/docs/learning-paths/clickhouse-data-source/prepare-clickhouse/).
#
# The users live in SQL-driven access storage on the data volume, so they
# survive a recreated container; the init scripts never run again on it. To
# change a password later: ALTER USER ... IDENTIFIED BY ... as the admin.
set -euo pipefail

: "${CLICKHOUSE_DB:?}" "${CLICKHOUSE_USER:?}" "${CLICKHOUSE_PASSWORD:?}"
: "${CLICKHOUSE_APP_USER:?}" "${CLICKHOUSE_APP_PASSWORD:?}"
: "${CLICKHOUSE_READONLY_USER:?}" "${CLICKHOUSE_READONLY_PASSWORD:?}"

# Names go into SQL as identifiers, passwords as string literals: refuse what
# would need quoting (docker-compose.yml asks for URL-safe passwords anyway).
for name in "$CLICKHOUSE_DB" "$CLICKHOUSE_APP_USER" "$CLICKHOUSE_READONLY_USER"; do
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "10-users.sh: bad name '$name'" >&2; exit 1; }
done
for secret in "$CLICKHOUSE_APP_PASSWORD" "$CLICKHOUSE_READONLY_PASSWORD"; do
  [[ "$secret" != *"'"* && "$secret" != *\\* ]] || {
    echo "10-users.sh: a password has a quote or a backslash; use URL-safe characters" >&2
    exit 1
  }
done

clickhouse client --host 127.0.0.1 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" \
  --multiquery <<SQL
CREATE USER IF NOT EXISTS ${CLICKHOUSE_APP_USER}
  IDENTIFIED WITH sha256_password BY '${CLICKHOUSE_APP_PASSWORD}'
  DEFAULT DATABASE ${CLICKHOUSE_DB};
GRANT SELECT, INSERT, CREATE TABLE, ALTER TABLE, OPTIMIZE, SHOW TABLES, SHOW COLUMNS
  ON ${CLICKHOUSE_DB}.* TO ${CLICKHOUSE_APP_USER};
CREATE SETTINGS PROFILE IF NOT EXISTS ${CLICKHOUSE_READONLY_USER}_readonly
  SETTINGS readonly = 1, max_execution_time = 60 CHANGEABLE_IN_READONLY;
CREATE USER IF NOT EXISTS ${CLICKHOUSE_READONLY_USER}
  IDENTIFIED WITH sha256_password BY '${CLICKHOUSE_READONLY_PASSWORD}'
  DEFAULT DATABASE ${CLICKHOUSE_DB}
  SETTINGS PROFILE '${CLICKHOUSE_READONLY_USER}_readonly';
GRANT SELECT ON ${CLICKHOUSE_DB}.* TO ${CLICKHOUSE_READONLY_USER};
SQL
echo "10-users.sh: users ${CLICKHOUSE_APP_USER} and ${CLICKHOUSE_READONLY_USER} (read-only) made"
