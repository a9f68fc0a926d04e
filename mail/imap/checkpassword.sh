#!/bin/bash
# Dovecot checkpassword program: asks the resolver (127.0.0.1, the `auth` socketmap) whether a user name and
# password are a user pool login. Protocol: Dovecot writes "user\0password\0..." on fd 3; exit 1 refuses,
# exit 111 is a temporary failure, success execs the reply program (our last argument) with USER set to the
# user's canonical name, which names the mailbox. Rendered from its placeholder variables like the other config files.
set -u
resolver_host={{RESOLVER_HOST}}
resolver_port={{RESOLVER_PORT}}

IFS= read -r -d '' user <&3 || exit 111
IFS= read -r -d '' password <&3 || exit 111
exec 3<&-
[ -n "$user" ] && [ -n "$password" ] || exit 1

request="auth $(printf '%s' "$user" | base64 -w0) $(printf '%s' "$password" | base64 -w0)"
exec 5<>"/dev/tcp/$resolver_host/$resolver_port" 2>/dev/null || exit 111
printf '%d:%s,' "${#request}" "$request" >&5 || exit 111
IFS= read -r -t 15 -d ',' reply <&5 || exit 111
exec 5<&-
reply=${reply#*:}

case "$reply" in
  "OK "*)
    export USER="${reply#OK }"
    exec "${@: -1}"
    ;;
  NOTFOUND*) exit 1 ;;
  *) exit 111 ;;
esac
