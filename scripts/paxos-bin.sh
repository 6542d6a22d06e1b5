# Sourced by the scripts: sets PAXOS to the command that runs paxos.
# $PAXOS from the environment wins; then dist/paxos (built with `bun run build` when missing and
# Bun is there); then `paxos` on the PATH.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PAXOS:-}" ]; then
  if [ ! -x "$_root/dist/paxos" ] && command -v bun >/dev/null 2>&1 && [ -f "$_root/package.json" ]; then
    (cd "$_root" && bun install --frozen-lockfile >/dev/null && bun run build >/dev/null) || { echo "could not build dist/paxos" >&2; exit 1; }
  fi
  if [ -x "$_root/dist/paxos" ]; then PAXOS="$_root/dist/paxos"
  elif command -v paxos >/dev/null 2>&1; then PAXOS=paxos
  else echo "paxos binary not found: run 'bun run build' or put paxos on your PATH" >&2; exit 1
  fi
fi
