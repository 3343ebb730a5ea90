#!/usr/bin/env bash
# Makes this machine's Docker engine able to run kind nodes, when it cannot already; idempotent.
#
# kind always starts its node containers with --privileged (and execs into them with it). Where
# the engine lacks CAP_SYS_RESOURCE in its capability bounding set (some sandboxed VMs and
# nested containers), runc refuses every privileged container: "unable to apply caps: operation
# not permitted". On such a machine this script
#
#   1. installs runc-shim (deploy/kind/runc-shim: drops CAP_SYS_RESOURCE from a container's
#      capability sets, then execs /usr/sbin/runc unchanged) as /usr/local/libexec/switchyard/runc;
#   2. registers it in /etc/docker/daemon.json as the runtime `switchyard-runc` and makes it the
#      `default-runtime` (other keys are kept), then reloads dockerd with SIGHUP (running
#      containers keep their runtime; nothing restarts);
#   3. creates /lib/modules when missing (kind bind-mounts it into the node);
#
# and checks that a privileged container now starts. Other Docker use is unaffected: a container
# that does not ask for CAP_SYS_RESOURCE reaches runc untouched, and one that asks for it could
# not start on this machine anyway. Where privileged containers already work (a developer's
# laptop, GitHub's runners) it changes nothing. Undo: remove the two keys from daemon.json and
# send dockerd SIGHUP.
#
#   host-setup.sh SHIM_BINARY     (deploy/kind/prepare.sh builds it and calls this)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log_prefix=kind-host
# shellcheck source-path=SCRIPTDIR source=../../docker/lib.sh
source "$repo/docker/lib.sh"

shim_source="${1:?usage: host-setup.sh SHIM_BINARY}"
probe_image="${KIND_PROBE_IMAGE:-debian:bookworm-slim}"
shim=/usr/local/libexec/switchyard/runc
daemon_json=/etc/docker/daemon.json
runtime=switchyard-runc

privileged_works() {
  timeout 60 docker run --rm --privileged --entrypoint true "$probe_image" >/dev/null 2>&1
}

image_exists "$probe_image" || die "no image $probe_image to probe with (docker/build-base-image.sh makes it)"
mkdir -p /lib/modules 2>/dev/null || as_root mkdir -p /lib/modules
install_shim() {
  if ! cmp -s "$shim_source" "$shim" 2>/dev/null; then
    as_root install -D -m 0755 "$shim_source" "$shim.new"
    as_root mv -f "$shim.new" "$shim"
    log "installed $shim"
  fi
}

# Set up by an earlier run: keep the shim current (running containers keep the binary they
# started with; the next runc call uses the new one).
if [[ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" == "$runtime" ]]; then
  install_shim
  privileged_works || die "default runtime $runtime is set, yet a privileged container fails"
  log "privileged containers start (default runtime $runtime, set up earlier)"
  exit 0
fi
if privileged_works; then
  log "privileged containers start: no engine change needed"
  exit 0
fi
log "privileged containers fail here; routing dockerd through $shim"
install_shim

# daemon.json with the runtime registered and made the default; every other key kept.
wanted="$(python3 - "$daemon_json" "$runtime" "$shim" <<'EOF'
import json, os, sys
path, name, shim = sys.argv[1:4]
config = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read().strip()
    config = json.loads(text) if text else {}
config.setdefault("runtimes", {})[name] = {"path": shim}
config["default-runtime"] = name
print(json.dumps(config, indent=2, sort_keys=True))
EOF
)"
if [[ "$(cat "$daemon_json" 2>/dev/null || true)" != "$wanted" ]]; then
  if [[ -f "$daemon_json" ]]; then
    as_root cp -p "$daemon_json" "$daemon_json.switchyard-backup"
    log "saved the previous daemon.json as $daemon_json.switchyard-backup"
  fi
  printf '%s\n' "$wanted" | as_root tee "$daemon_json.new" >/dev/null
  as_root mv -f "$daemon_json.new" "$daemon_json"
fi

if [[ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" != "$runtime" ]]; then
  pid="$(pgrep -o -x dockerd || true)"
  [[ -n "$pid" ]] || die "no dockerd process to reload; restart the Docker engine by hand"
  log "reloading dockerd (pid $pid, SIGHUP)"
  as_root kill -HUP "$pid"
  for _ in $(seq 50); do
    [[ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" == "$runtime" ]] && break
    sleep 0.2 # polling the daemon's state, bounded
  done
  [[ "$(docker info --format '{{.DefaultRuntime}}')" == "$runtime" ]] ||
    die "dockerd did not take default-runtime $runtime after SIGHUP (see its log)"
fi
privileged_works || die "a privileged container still fails with default runtime $runtime"
log "privileged containers start (default runtime $runtime)"
