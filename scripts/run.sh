#!/usr/bin/env bash
# Runs a local cluster as in the specification and leaves its outputs in logs/:
# learner-N.txt (what each learner delivered), values-client-N.txt (what each client proposed),
# latency-client-N.tsv (per-value latency), and each process's log. Then: scripts/check.sh.
# It ends as soon as every learner has every value; every process it started is stopped by PID.
# LOGS=dir puts the outputs elsewhere than logs/ (the three scripts all honour it).
set -euo pipefail
usage() {
  cat <<'USAGE'
usage: scripts/run.sh [options]
  -n, --num NUM        values per client (5)
  -b, --batch NUM      batch size for proposers (1)
  -c, --clients NUM    number of clients (2)
  -p, --proposers NUM  number of proposers (2)
  -a, --acceptors NUM  number of acceptors (3)
  -l, --learners NUM   number of learners (2); 0 measures latencies only
      --loss RATE      drop each received datagram with this probability (0.0)
      --catchup        start one learner only after all values are decided
  -s, --sleep SEC      seconds between phases (2)
      --ip ADDRESS     multicast address for all four groups (default: the binary's, 239.0.0.1)
  -d, --debug          debug logging in logs/*.log
  -h, --help           this help
USAGE
}
num=5 batch=1 clients=2 proposers=2 acceptors=3 learners=2 loss=0.0 sleep=2 ip="" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--num|-b|--batch|-c|--clients|-p|--proposers|-a|--acceptors|-l|--learners|--loss|-s|--sleep|--ip)
      if [ $# -lt 2 ]; then echo "scripts/run.sh: $1 needs a value" >&2; usage >&2; exit 2; fi ;;&
    -n|--num) num="$2"; shift 2 ;;
    -b|--batch) batch="$2"; shift 2 ;;
    -c|--clients) clients="$2"; shift 2 ;;
    -p|--proposers) proposers="$2"; shift 2 ;;
    -a|--acceptors) acceptors="$2"; shift 2 ;;
    -l|--learners) learners="$2"; shift 2 ;;
    --loss) loss="$2"; shift 2 ;;
    --catchup) extra+=(--catchup); shift ;;
    -s|--sleep) sleep="$2"; shift 2 ;;
    --ip) ip="$2"; shift 2 ;;
    -d|--debug) extra+=(--debug); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
source scripts/paxos-bin.sh
scripts/cleanup.sh --quiet
[ -n "$ip" ] && extra+=(--ip "$ip")
exec $PAXOS demo --num "$num" --batch "$batch" --clients "$clients" --proposers "$proposers" \
  --acceptors "$acceptors" --learners "$learners" --loss "$loss" --sleep "$sleep" \
  --logs "${LOGS:-logs}" --no-check --no-report "${extra[@]}"
