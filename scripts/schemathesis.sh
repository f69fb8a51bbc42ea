#!/bin/sh
# Fuzzes the live server against its own OpenAPI document with schemathesis: no 5xx, and every response must
# match the documented status codes, content types and schemas. Starts `omnifin serve` (debug build) on a
# throwaway SQLite database with an admin account, and stops it afterwards.
#   scripts/schemathesis.sh [BINARY] [EXAMPLES-PER-OPERATION]
set -eu
binary=${1:-.build/debug/omnifin}
examples=${2:-25}
work=$(mktemp -d /tmp/omnifin-schemathesis-XXXXXX)
port=$((30000 + $$ % 20000))
database="sqlite:$work/omnifin.db"
password="schemathesis passphrase"
export OMNIFIN_MAIL="file:$work/mail" OMNIFIN_DATA_KEY_FILE="$work/data.key" OMNIFIN_INDEX_SNAPSHOT="$work/index.hnsw"
export OMNIFIN_RATE_LIMIT_PER_MINUTE=0 OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE=0 OMNIFIN_IMPORT_DIR="$work/imports"

"$binary" admin create-user --database "$database" --email admin@example.com --password "$password" --role admin >/dev/null
"$binary" serve --database "$database" --port "$port" --seed corpora >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
token=$(curl -fs -X POST "http://127.0.0.1:$port/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"admin@example.com\", \"password\": \"$password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Not fuzzed: logout (it would end the session the run uses) and the endless live analytics stream.
schemathesis run "http://127.0.0.1:$port/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/auth/logout --exclude-path /api/admin/analytics/stream \
    --max-examples "$examples" --workers 2 --request-timeout 30 --generation-deterministic \
    || { echo "--- server log ---"; tail -50 "$work/server.log"; exit 1; }
