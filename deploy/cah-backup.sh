#!/bin/sh
# Daily backup of CAH (photos included) with retention: the newest 14 daily and 8 weekly
# (Sunday) files are kept. Run by cah-backup.service as the cah user; see docs/deploy.md.
set -eu
DIR=${CAH_BACKUP_DIR:-/var/backups/cah}
DAILY=${CAH_BACKUP_DAILY:-14}
WEEKLY=${CAH_BACKUP_WEEKLY:-8}
PAKKEDES=${PAKKEDES:-/opt/cah/venv/bin/pakkedes}

mkdir -p "$DIR/daily" "$DIR/weekly"
today=$(date +%F)
"$PAKKEDES" backup "$DIR/daily/cah-$today.backup"
if [ "$(date +%u)" = 7 ]; then
  cp -p "$DIR/daily/cah-$today.backup" "$DIR/weekly/cah-$today.backup"
fi
# Names sort by date: everything but the newest N goes.
prune() {
  ls -1 "$1"/cah-*.backup 2>/dev/null | sort -r | tail -n +"$(($2 + 1))" | while read -r old; do
    rm -f -- "$old"
  done
}
prune "$DIR/daily" "$DAILY"
prune "$DIR/weekly" "$WEEKLY"
