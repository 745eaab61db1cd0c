#!/usr/bin/env bash
# Starts the deployment on loopback: nats-server, N bakery workers and the HTTP gateway.
# Usage: examples/nats-deployment/run.sh [WORKERS] (default 2). Ctrl-C stops everything.
# Then: curl -s localhost:8002/api/telepact -d '[{}, {"fn.ping_": {}}]'
set -euo pipefail
cd "$(dirname "$0")/../.."

workers="${1:-2}"
nats_port="${NATS_PORT:-4222}"
http_port="${HTTP_PORT:-8002}"
nats_url="nats://127.0.0.1:${nats_port}"

cargo build --quiet -p telepact-nats-deployment
bin="${CARGO_TARGET_DIR:-target}/debug/telepact-nats-deployment"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

nats-server -a 127.0.0.1 -p "$nats_port" &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/${nats_port}") 2>/dev/null && break
  sleep 0.1
done

for _ in $(seq "$workers"); do
  "$bin" --nats "$nats_url" worker &
  pids+=($!)
done
"$bin" --nats "$nats_url" gateway --port "$http_port" &
pids+=($!)

echo "gateway on http://127.0.0.1:${http_port}/api/telepact, ${workers} workers; Ctrl-C stops all"
wait
