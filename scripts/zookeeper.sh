#!/usr/bin/env bash
# Starts or stops a throwaway ZooKeeper server on 127.0.0.1 for the tests (Debian's
# `zookeeper` package). `start` prints `MESOS_KERNEL_ZK=127.0.0.1:PORT` for the caller to
# export; `stop` kills it and removes its data.
# Usage: scripts/zookeeper.sh start|stop [DIR]
set -euo pipefail
DIR="${2:-${TMPDIR:-/tmp}/mesos-kernel-zk}"
case "${1:-}" in
  start)
    mkdir -p "$DIR/data"
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cat > "$DIR/zoo.cfg" <<CFG
tickTime=2000
dataDir=$DIR/data
clientPort=$PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
CFG
    CP="/etc/zookeeper/conf:$(ls /usr/share/java/*.jar | tr '\n' ':')"
    nohup java -cp "$CP" -Dzookeeper.log.dir="$DIR" -Dzookeeper.root.logger=WARN,CONSOLE \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zoo.cfg" > "$DIR/zk.log" 2>&1 &
    echo $! > "$DIR/pid"
    # Poll until it answers "imok" (at most 30 s).
    for _ in $(seq 1 150); do
      if python3 - "$PORT" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"ruok")
sys.exit(0 if s.recv(4) == b"imok" else 1)
PY
      then
        echo "MESOS_KERNEL_ZK=127.0.0.1:$PORT"
        exit 0
      fi
      sleep 0.2
    done
    echo "ZooKeeper did not start; its log:" >&2
    tail -20 "$DIR/zk.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$DIR/pid" ]; then kill "$(cat "$DIR/pid")" 2>/dev/null || true; fi
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
