#!/bin/bash
# smtp-out: render the config from the environment (lib/mailTiers.ts), start the resolver (address owners and
# the DKIM milter), run Postfix in the foreground. If either process ends, the container ends.
set -euo pipefail
program=/opt/cabal/cabal-mail.js

node "$program" render smtp-out /opt/cabal/templates/smtp-out /etc/postfix
mkdir -p /var/spool/postfix /var/lib/postfix
chown postfix /var/lib/postfix
postfix check

node "$program" resolver smtp-out &
resolver=$!
postfix start-fg &
mta=$!
trap 'kill -TERM "$resolver" 2>/dev/null; postfix stop 2>/dev/null' TERM INT
wait -n "$resolver" "$mta" || true
kill -TERM "$resolver" 2>/dev/null || true
postfix stop 2>/dev/null || true
wait
exit 1
