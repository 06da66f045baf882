#!/usr/bin/env bash
# Local Apache Kafka (KRaft, broker+controller) from Maven Central jars.
#   kafka.sh install | up | down | status
# Everything lives under $KAFKA_HOME (git-ignored). Idempotent.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KAFKA_HOME="${KAFKA_HOME:-$ROOT/.cache/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# The SASL_PLAINTEXT listener's port and its one user (a local, test-only credential).
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-9094}"
KAFKA_SASL_USER="${KAFKA_SASL_USER:-chat-local}"
KAFKA_SASL_SECRET="${KAFKA_SASL_SECRET:-chat-local-only}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
LIBS="$KAFKA_HOME/libs"
DATA="$KAFKA_HOME/data"
LOGS="$KAFKA_HOME/logs"
CONF="$KAFKA_HOME/server.properties"
PIDFILE="$KAFKA_HOME/kafka.pid"
STAMP="$LIBS/.pom.sha"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

pom_sha() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

install() {
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(pom_sha)" ]]; then
    return 0
  fi
  echo "kafka: resolving broker jars from Maven Central"
  rm -rf "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime
  pom_sha >"$STAMP"
}

running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

wait_ready() {
  # Up means a client can fetch metadata, not merely that the port is open.
  "$PYTHON" "$HERE/wait_ready.py" "127.0.0.1:$KAFKA_PORT" "${KAFKA_WAIT_SECONDS:-60}" || {
    echo "kafka: not ready; last log lines:" >&2
    tail -n 30 "$LOGS/server.log" >&2 || true
    return 1
  }
}

render() {
  sed -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@SASL_PORT@#$KAFKA_SASL_PORT#g" -e "s#@SASL_USER@#$KAFKA_SASL_USER#g" \
      -e "s#@SASL_PASSWORD@#$KAFKA_SASL_SECRET#g" \
      -e "s#@DATA_DIR@#$DATA#g" "$HERE/server.properties.in"
}

up() {
  install
  if running; then
    if cmp -s <(render) "$CONF"; then
      wait_ready
      return 0
    fi
    echo "kafka: configuration changed; restarting"
    down
  fi
  mkdir -p "$DATA" "$LOGS"
  render >"$CONF"
  if [[ ! -f "$DATA/meta.properties" ]]; then
    cluster_id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)"
    java -cp "$LIBS/*" -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
      -Dkafka.logs.dir="$LOGS" kafka.tools.StorageTool format --standalone \
      --ignore-formatted -t "$cluster_id" -c "$CONF" >/dev/null
  fi
  echo "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIBS/*" kafka.Kafka "$CONF" >"$LOGS/stdout.log" 2>&1 &
  echo $! >"$PIDFILE"
  wait_ready
  echo "kafka: ready"
}

down() {
  if running; then
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "kafka: stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  status) if running; then echo "kafka: running (pid $(cat "$PIDFILE"))"; else echo "kafka: stopped"; exit 1; fi ;;
  reset) down; rm -rf "$DATA" "$LOGS" ;;
  *) echo "usage: $0 install|up|down|status|reset" >&2; exit 2 ;;
esac
