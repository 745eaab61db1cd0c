#!/usr/bin/env bash
# Starts the deployment on loopback: nats-server, N workers and the HTTP gateway; for the
# auth example also a redis-server the workers share (appending to a file in a temp dir).
# Usage: examples/nats-deployment/run.sh [WORKERS (default 2)] [bakery|auth (default bakery)]
# Ctrl-C stops everything. Then: curl -s localhost:8002/api/telepact -d '[{}, {"fn.ping_": {}}]'
# NATS_PORT, REDIS_PORT and HTTP_PORT (4222, 6379, 8002) must be free. A part that does not
# start, or fails, stops the rest with an error line and status 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Debian installs nats-server in /usr/sbin, which only root's PATH holds.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

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
# Last started, first stopped, each waited for: the gateway's requests in flight get
# their replies and the workers drain through NATS, where stopping nats-server with
# them held each worker to its 10 s drain deadline.
stop() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [[ -n "$redis_dir" ]]; then rm -rf "$redis_dir"; fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "error: $*" >&2
  exit 1
}

# Runs a part in the background in a process group of its own: Ctrl-C at a terminal
# signals the terminal's whole foreground group, which killed nats-server at once while
# the workers drained (each then held to its 10 s drain deadline) and cut the gateway's
# requests in flight. Only this script hears it now, and stops the parts in order.
start_part() {
  set -m
  "$@" &
  set +m
  pids+=($!)
}

# A server already on a port would answer for the one started here.
refuse_taken() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    fail "port $1 is in use (set $2 to another)"
  fi
}

# Waits for the process $2, named $3, to listen on port $1.
wait_for_port() {
  for _ in $(seq 50); do
    kill -0 "$2" 2>/dev/null || fail "$3 exited before listening on port $1"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "$3 did not listen on port $1 within 5 s"
}

command -v nats-server >/dev/null || fail "nats-server is not installed"
refuse_taken "$nats_port" NATS_PORT
refuse_taken "$http_port" HTTP_PORT
start_part nats-server -a 127.0.0.1 -p "$nats_port"
wait_for_port "$nats_port" $! nats-server

worker_args=()
if [[ "$app" == auth ]]; then
  command -v redis-server >/dev/null || fail "redis-server is not installed"
  refuse_taken "$redis_port" REDIS_PORT
  redis_dir="$(mktemp -d)"
  start_part redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" --save "" \
    --appendonly yes >/dev/null
  wait_for_port "$redis_port" $! redis-server
  worker_args=(--redis "redis://127.0.0.1:${redis_port}/")
fi

# This nats-server listens on loopback only, so only this machine's processes can publish
# on the subject: the workers may take the caller addresses the gateway sends.
worker_args+=(--trust-gateway-address)
for _ in $(seq "$workers"); do
  start_part "$bin" --nats "$nats_url" --app "$app" worker "${worker_args[@]}"
done
start_part "$bin" --nats "$nats_url" --app "$app" gateway --port "$http_port" \
  --forward-caller-address
wait_for_port "$http_port" $! gateway

echo "gateway on http://127.0.0.1:${http_port}/api/telepact, ${workers} ${app} workers; Ctrl-C stops all"
# The first process to end ends the deployment; one stopped by Ctrl-C or SIGTERM ends
# with status 0. Polled: macOS's bash 3.2 has no `wait -n`.
while sleep 0.2; do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    status=0
    wait "$pid" || status=$?
    if ((status != 0)); then
      fail "a process of the deployment failed (status $status); the others are stopped"
    fi
    exit 0
  done
done
