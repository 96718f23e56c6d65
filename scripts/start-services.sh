#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the service tests need are up on 127.0.0.1, starting
# the machine's own (Debian's packages) when one is installed but not answering. CI calls this
# before `make test`: with REQUIRE_SERVICES=1 a stopped service fails those tests, and a service
# left stopped by an earlier experiment is not a reason for a red build.
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Runs the command after `what` every half second until it succeeds, for up to 30 s.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 60); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  echo "$what did not come up" >&2
  return 1
}

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  say "PostgreSQL is up on 127.0.0.1:5432"
elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
else
  echo "PostgreSQL is not running on 127.0.0.1:5432 and is not installed here" >&2
fi

if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  say "Redis is up on 127.0.0.1:6379"
elif command -v redis-server >/dev/null; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
else
  echo "Redis is not running on 127.0.0.1:6379 and is not installed here" >&2
fi
