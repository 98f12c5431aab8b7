#!/bin/bash
# A streaming replica of the `db` service: cloned with pg_basebackup -R on first start (it
# writes standby.signal and primary_conninfo), then plain postgres as a hot standby.
set -euo pipefail
: "${PGDATA:?}" "${SPP_REPLICATION_PASSWORD:?set SPP_REPLICATION_PASSWORD}"
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD="$SPP_REPLICATION_PASSWORD"
  until gosu postgres pg_basebackup -h db -U replicator -D "$PGDATA" -R -X stream -c fast; do
    echo "waiting for the primary to accept the base backup ..." >&2
    rm -rf "${PGDATA:?}"/*
    sleep 3
  done
fi
exec gosu postgres postgres -c hot_standby=on
