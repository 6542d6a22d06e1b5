#!/usr/bin/env bash
# Checks total order, integrity and agreement on the last run's logs (or the files given).
# LOGS=dir checks that directory instead of logs/.
# Prints each property with OK/FAILED and the first offending line; exits non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/paxos-bin.sh
if [ $# -eq 0 ]; then set -- "${LOGS:-logs}"; fi
exec $PAXOS check "$@"
