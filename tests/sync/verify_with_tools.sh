#!/usr/bin/env bash
# ctest: sync the recorded tenant with the real binaries, then check the .c1z with standard tools only
# (scripts/verify-c1z), and check the baton-sdk-written reference file the same way.
set -euo pipefail
server_bin=$1 cli_bin=$2 root=$3
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
"$server_bin" --recorded "$root/tests/fixtures/percipio/recorded-small" --pending-polls 0 \
  --port-file "$work/port" 2>"$work/server.log" &
pid=$!
for _ in $(seq 400); do [ -s "$work/port" ] && break; sleep 0.025; done
[ -s "$work/port" ] || { cat "$work/server.log"; exit 1; }
BATON_API_TOKEN=demo-token-not-a-secret BATON_ORGANIZATION_ID=5f6b1a3e-8c2d-4e7f-9a01-3b4c5d6e7f80 \
  "$cli_bin" --base-url "http://127.0.0.1:$(cat "$work/port")" --log-level error -f "$work/out.c1z" 2>"$work/sync.log" ||
  { cat "$work/sync.log"; exit 1; }
"$root/scripts/verify-c1z" "$work/out.c1z"
[ "$(stat -c %a "$work/out.c1z")" = 600 ] || { echo "mode is not 0600"; exit 1; }
# A rejected token: exit status 3, one clear line, no file, the token nowhere in the output.
set +e
BATON_API_TOKEN=wrong-token-value-123 BATON_ORGANIZATION_ID=5f6b1a3e-8c2d-4e7f-9a01-3b4c5d6e7f80 \
  "$cli_bin" --base-url "http://127.0.0.1:$(cat "$work/port")" --log-format console -f "$work/bad.c1z" 2>"$work/bad.log"
rc=$?
set -e
[ "$rc" = 3 ] || { cat "$work/bad.log"; echo "wrong token: exit $rc, want 3"; exit 1; }
[ ! -e "$work/bad.c1z" ] || { echo "wrong token: a file was written"; exit 1; }
grep -q '^error: .*401' "$work/bad.log" || { cat "$work/bad.log"; echo "wrong token: no clear error line"; exit 1; }
! grep -q 'wrong-token-value-123' "$work/bad.log" || { echo "the token appeared in the output"; exit 1; }
"$root/scripts/verify-c1z" "$root/tests/fixtures/baton-sdk/reference-small.c1z"
echo "1 passed, 0 failed"
