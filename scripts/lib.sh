# shellcheck shell=bash
# Sourced by scripts/deps.sh and docker/lib.sh: one-line messages and running as root. Callers
# set `log_prefix` (e.g. "deps") before sourcing.

log() { printf '%s: %s\n' "${log_prefix:-switchyard}" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "${log_prefix:-switchyard}" "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are, through sudo when it is there.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root or sudo to run: $*"
  fi
}
