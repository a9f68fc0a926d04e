#!/bin/bash
# imap: render the config from the environment (lib/mailTiers.ts), start the resolver (password checks against
# the user pool), run Dovecot in the foreground. If either process ends, the container ends.
set -euo pipefail
program=/opt/cabal/cabal-mail.js

node "$program" render imap /opt/cabal/templates/imap /etc/dovecot
# The mailbox tree is the EFS access point, owned by the one mail user (vmail, 5000:5000).
mkdir -p /var/mail/cabal

node "$program" resolver imap &
resolver=$!
dovecot -F -c /etc/dovecot/dovecot.conf &
server=$!
trap 'kill -TERM "$resolver" "$server" 2>/dev/null' TERM INT
wait -n "$resolver" "$server" || true
kill -TERM "$resolver" "$server" 2>/dev/null || true
wait
exit 1
