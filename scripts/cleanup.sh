#!/usr/bin/env bash
# Stops the processes that run.sh (paxos demo) started, by the PIDs it recorded in logs/pids,
# never by name, and removes the leftovers of an interrupted run. No firewall rules to undo:
# loss is injected inside the processes (--loss), not with iptables.
set -uo pipefail
cd "$(dirname "$0")/.."
quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "$@"; }
pids="${LOGS:-logs}/pids"
if [ ! -f "$pids" ]; then
  say "nothing to clean up (no $pids)"
  exit 0
fi
# Only a process that still runs a paxos role: the PID may have been reused since it was recorded.
ours() { ps -p "$1" -o args= 2>/dev/null | grep -q -- "--role"; }
stopped=0
while read -r pid name; do
  [ -n "$pid" ] || continue
  if ours "$pid"; then
    kill "$pid" 2>/dev/null && stopped=$((stopped + 1)) && say "stopped $name (pid $pid)"
  fi
done < "$pids"
sleep 0.3
while read -r pid name; do
  [ -n "$pid" ] && ours "$pid" && kill -9 "$pid" 2>/dev/null
done < "$pids"
rm -f "$pids"
say "cleanup: $stopped process(es) stopped"
