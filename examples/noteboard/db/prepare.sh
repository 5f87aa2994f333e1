#!/bin/sh
# One-shot `db-prep` service (runs as root, like a volume-permissions init container): gives the
# postgres user a folder under .data/ it owns, since PostgreSQL will not run as root and its data
# directory must belong to the user it runs as.
set -eu
DB_DIR=${NOTEBOARD_DB_DIR:-./.data/db}
DB_USER=${NOTEBOARD_DB_OWNER:-postgres}
mkdir -p "$DB_DIR"
chown "$DB_USER:" "$DB_DIR"
chmod 700 "$DB_DIR"
echo "db-prep: $DB_DIR is ready for $DB_USER"
