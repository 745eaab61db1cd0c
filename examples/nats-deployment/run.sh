#!/usr/bin/env bash
# Starts the deployment on loopback: nats-server, N workers and the HTTP gateway; for the
# auth example also a redis-server the workers share (appending to a file in a temp dir).
# Usage: examples/nats-deployment/run.sh [WORKERS (default 2)] [bakery|auth (default bakery)]
# Ctrl-C stops everything. Then: curl -s localhost:8002/api/telepact -d '[{}, {"fn.ping_": {}}]'
set -euo pipefail
cd "$(dirname "$0")/../.."

workers="${1:-2}"
app="${2:-bakery}"
nats_port="${NATS_PORT:-4222}"
redis_port="${REDIS_PORT:-6379}"
http_port="${HTTP_PORT:-8002}"
nats_url="nats://127.0.0.1:${nats_port}"

cargo build --quiet -p telepact-nats-deployment
bin="${CARGO_TARGET_DIR:-target}/debug/telepact-nats-deployment"

pids=()
redis_dir=""
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "$redis_dir" ]] && rm -rf "$redis_dir"
}
trap stop EXIT INT TERM

wait_for_port() {
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
}

nats-server -a 127.0.0.1 -p "$nats_port" &
pids+=($!)
wait_for_port "$nats_port"

worker_args=()
if [[ "$app" == auth ]]; then
  redis_dir="$(mktemp -d)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" --save "" \
    --appendonly yes >/dev/null &
  pids+=($!)
  wait_for_port "$redis_port"
  worker_args=(--redis "redis://127.0.0.1:${redis_port}/")
fi

# This nats-server listens on loopback only, so only this machine's processes can publish
# on the subject: the workers may take the caller addresses the gateway sends.
worker_args+=(--trust-gateway-address)
for _ in $(seq "$workers"); do
  "$bin" --nats "$nats_url" --app "$app" worker "${worker_args[@]}" &
  pids+=($!)
done
"$bin" --nats "$nats_url" --app "$app" gateway --port "$http_port" --forward-caller-address &
pids+=($!)

echo "gateway on http://127.0.0.1:${http_port}/api/telepact, ${workers} ${app} workers; Ctrl-C stops all"
wait
