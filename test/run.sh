#!/usr/bin/env bash
# The whole test suite, as CI runs it: type-check, build the executable, run every test against it.
# Ends with one line "N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
mkdir -p .tmp
passed=0
failed=0

step() { # name, command...
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}

if [ ! -x "$BUN" ]; then
  echo "node_modules is missing: run npm ci first" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

step "typecheck (tsc --noEmit)" node_modules/.bin/tsc --noEmit -p tsconfig.json
step "build dist/codex-subagents" "$BUN" run build.ts
# The committed checksums.txt must be the release build of the committed tree (names any asset that differs).
step "checksums.txt matches a release rebuild of HEAD" "$BUN" run build.ts --check

# Tests run against the built executable; a missing build fails them instead of silently testing the source.
export CI="${CI:-true}"
log=.tmp/bun-test.log
"$BUN" test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
tests_passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
tests_failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
passed=$((passed + tests_passed))
failed=$((failed + tests_failed))
if [ "$status" -ne 0 ] && [ "$tests_failed" -eq 0 ]; then
  echo "bun test exited $status without reporting a failed test (no test files, or a crash)"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
