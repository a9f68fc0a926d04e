#!/bin/bash
# smtp-in: render the config from the environment (lib/mailTiers.ts), start the resolver, run Postfix in the
# foreground. If either process ends, the container ends, and ECS replaces it; the queue on EFS survives.
set -euo pipefail
program=/opt/cabal/cabal-mail.js

node "$program" render smtp-in /opt/cabal/templates/smtp-in /etc/postfix
if [ ! -s /etc/postfix/tls/cert.pem ]; then
  # Opportunistic STARTTLS on an MX needs a certificate, not a trusted one: senders do not verify MX names.
  mkdir -p /etc/postfix/tls
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=smtp-in.${CONTROL_DOMAIN}" \
    -keyout /etc/postfix/tls/key.pem -out /etc/postfix/tls/cert.pem 2>/dev/null
  chmod 600 /etc/postfix/tls/key.pem
fi
# A fresh EFS access point holds an empty queue directory: postfix check creates and owns the rest.
mkdir -p /var/spool/postfix /var/lib/postfix
chown postfix /var/lib/postfix
postfix check

node "$program" resolver smtp-in &
resolver=$!
postfix start-fg &
mta=$!
trap 'kill -TERM "$resolver" 2>/dev/null; postfix stop 2>/dev/null' TERM INT
wait -n "$resolver" "$mta" || true
kill -TERM "$resolver" 2>/dev/null || true
postfix stop 2>/dev/null || true
wait
exit 1
