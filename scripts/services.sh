#!/usr/bin/env bash
# Start or stop throwaway PostgreSQL and Redis on free loopback ports for the test suite.
#   scripts/services.sh start DIR   -> writes DIR/env (DATABASE_URL, REDIS_URL, ...) and starts both
#   scripts/services.sh stop DIR    -> stops both and removes DIR
set -euo pipefail

ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
  command -v tesseract >/dev/null || missing+=(tesseract-ocr)
  [ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/ind.traineddata 2>/dev/null)" ] || missing+=(tesseract-ocr-ind)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

pg_bin() {
  local found
  found=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] || found=$(readlink -f "$(command -v initdb)")
  dirname "$found"
}

check_versions() {
  # The suite relies on PostgreSQL 15+ and Redis 7 features; say so instead of failing obscurely.
  local pg redis
  pg=$("$1/postgres" --version | grep -oE '[0-9]+' | head -n 1)
  redis=$(redis-server --version | grep -oE 'v=[0-9]+' | grep -oE '[0-9]+')
  if [ "$pg" -lt 15 ] || [ "$redis" -lt 7 ]; then
    echo "need PostgreSQL 15+ and Redis 7+; found PostgreSQL $pg and Redis $redis" >&2
    exit 1
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  ensure_packages
  mkdir -p "$dir"
  chmod 777 "$dir"
  local bin pg_port redis_port runas
  bin=$(pg_bin)
  check_versions "$bin"
  pg_port=$(free_port)
  redis_port=$(free_port)
  # PostgreSQL refuses to run as root.
  runas=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 && runas=(runuser -u postgres --) || runas=(runuser -u nobody --)
  fi
  "${runas[@]}" "$bin/initdb" -D "$dir/pg" -U funrun --auth=trust -E UTF8 >/dev/null
  cat >> "$dir/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF
  "${runas[@]}" "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w start >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U funrun funrun_test
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat > "$dir/env" <<ENV
export TEST_PG_BIN=$bin
export TEST_PG_DATA=$dir/pg
export TEST_PG_PORT=$pg_port
export TEST_REDIS_PORT=$redis_port
export TEST_SERVICES_DIR=$dir
export DATABASE_URL=postgresql+psycopg://funrun@127.0.0.1:$pg_port/funrun_test
export REDIS_URL=redis://127.0.0.1:$redis_port/15
export MEDIA_DIR=$dir/media
export SECRET_KEY=test-secret-key-not-for-production
export TELEGRAM_BOT_TOKEN=123456:TEST-TOKEN
export TELEGRAM_WEBHOOK_SECRET=tg-secret-for-tests
export FONNTE_TOKEN=fonnte-token-for-tests
export FONNTE_WEBHOOK_SECRET=fonnte-secret-for-tests
export WHATSAPP_TOKEN=EAAG-cloud-token-for-tests
export WHATSAPP_PHONE_NUMBER_ID=106540352242922
export WHATSAPP_APP_SECRET=wa-app-secret-for-tests
export WHATSAPP_VERIFY_TOKEN=wa-verify-token-for-tests
# Cheaper argon2id for the suite's many seeded accounts and sign-ins (production keeps the defaults).
export PASSWORD_HASH_TIME_COST=1
export PASSWORD_HASH_MEMORY_KIB=8192
ENV
  mkdir -p "$dir/media"
  echo "postgres on 127.0.0.1:$pg_port, redis on 127.0.0.1:$redis_port"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  local runas=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 && runas=(runuser -u postgres --) || runas=(runuser -u nobody --)
  fi
  if [ -f "$dir/env" ]; then
    # shellcheck disable=SC1091
    . "$dir/env"
    "${runas[@]}" "$TEST_PG_BIN/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
    redis-cli -p "$TEST_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

"$@"
