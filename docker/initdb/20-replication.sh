#!/bin/bash
# Runs once, when the official image initialises the primary: a role for the streaming
# replicas and the pg_hba line that lets it connect for replication.
set -euo pipefail
: "${SPP_REPLICATION_PASSWORD:?set SPP_REPLICATION_PASSWORD}"
psql -v ON_ERROR_STOP=1 -v pw="$SPP_REPLICATION_PASSWORD" -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
