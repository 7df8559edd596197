#!/usr/bin/env bash
# The whole test suite, as CI runs it: type-check, build the executable, run every test against it (the real MCP
# clients of test/clients included), then the codex tests again against the oldest supported codex.
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

# One `bun test` pass: log, then "what" for messages, then bun test's arguments. Adds its counts to passed/failed; a
# non-zero exit with no failed test (no test files, or a crash) counts as one failure.
test_pass() {
  local log=$1 what=$2; shift 2
  "$BUN" test --timeout 120000 "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local tests_passed tests_failed
  tests_passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  tests_failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  passed=$((passed + tests_passed))
  failed=$((failed + tests_failed))
  if [ "$status" -ne 0 ] && [ "$tests_failed" -eq 0 ]; then
    echo "$what exited $status without reporting a failed test (no test files, or a crash)"
    failed=$((failed + 1))
  fi
}

# Tests run against the built executable; a missing build fails them instead of silently testing the source.
export CI="${CI:-true}"
test_pass .tmp/bun-test.log "bun test" "$@"

# Second pass (whole-suite runs only): the tests that run the real codex, again against the oldest codex this release
# supports (TESTED_CODEX_VERSIONS[0] in src/doctor/index.ts; the first pass used the pinned, newest one). It is installed
# from the npm registry into .tmp/codex-VERSION on first use, then reused. The client suite (test/clients) is not
# repeated, except test/clients/codex.test.ts (Codex as the client): the others are about their clients. Of the
# adversarial files, the capability attacks run again (what codex gives a sub-agent is what changes between versions).
if [ "$#" -eq 0 ]; then
  oldest=$("$BUN" -e 'import { TESTED_CODEX_VERSIONS } from "./src/doctor/index.ts"; console.log(TESTED_CODEX_VERSIONS[0])')
  prefix="$PWD/.tmp/codex-$oldest"
  old_codex="$prefix/node_modules/.bin/codex"
  install_oldest() {
    "$old_codex" --version 2>/dev/null | grep -qx "codex-cli $oldest" && return 0
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock "@openai/codex@$oldest" >/dev/null &&
      "$old_codex" --version | grep -qx "codex-cli $oldest"
  }
  step "install codex $oldest (oldest supported) into .tmp/codex-$oldest" install_oldest
  if [ -x "$old_codex" ]; then
    echo "== codex tests again with codex $oldest (CODEX_SUBAGENTS_TEST_CODEX=$old_codex)"
    CODEX_SUBAGENTS_TEST_CODEX="$old_codex" test_pass .tmp/bun-test-codex-oldest.log "bun test (codex $oldest)" \
      test/e2e test/runs test/doctor test/clients/codex.test.ts test/adversarial/capabilities.test.ts test/codex/mcp-servers.test.ts
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
