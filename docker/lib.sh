# shellcheck shell=bash
# Sourced by docker/*.sh and tests/docker/*.sh: logging and running as root (scripts/lib.sh), and
# the Debian mirror that this machine's apt uses (images are built from the same mirror, never
# from a registry). Callers set `log_prefix` before sourcing.

log_prefix="${log_prefix:-docker}"
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

# apt_mirror SUITE: the URI of the first enabled `deb` source for SUITE in this machine's apt
# configuration (one-line .list files and deb822 .sources files); nothing when there is none.
apt_mirror() {
  local suite="$1" file
  local -a lists=() sources=()
  [[ -f /etc/apt/sources.list ]] && lists+=(/etc/apt/sources.list)
  for file in /etc/apt/sources.list.d/*.list; do [[ -f "$file" ]] && lists+=("$file"); done
  for file in /etc/apt/sources.list.d/*.sources; do [[ -f "$file" ]] && sources+=("$file"); done
  {
    if ((${#lists[@]})); then
      # deb [options] URI SUITE COMPONENT...
      awk -v suite="$suite" '
        /^[ \t]*deb[ \t]/ {
          sub(/\[[^]]*\]/, "")
          if ($3 == suite) print $2
        }' "${lists[@]}"
    fi
    if ((${#sources[@]})); then
      # deb822 paragraphs: Types, URIs, Suites, Enabled.
      awk -v suite="$suite" '
        BEGIN { RS = ""; FS = "\n" }
        {
          types = ""; uris = ""; suites = ""; enabled = "yes"
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^[ \t]*#/ || index($i, ":") == 0) continue
            key = tolower(substr($i, 1, index($i, ":") - 1))
            value = substr($i, index($i, ":") + 1)
            if (key == "types") types = value
            else if (key == "uris") uris = value
            else if (key == "suites") suites = value
            else if (key == "enabled") enabled = tolower(value)
          }
          if (enabled ~ /no/ || (" " types " ") !~ /[ \t]deb[ \t]/) next
          n = split(suites, names, /[ \t]+/)
          for (j = 1; j <= n; j++) {
            if (names[j] == suite) {
              split(uris, list, /[ \t]+/)
              for (k = 1; k in list; k++) if (list[k] != "") { print list[k]; break }
              break
            }
          }
        }' "${sources[@]}"
    fi
  } | head -n 1
}

# The archive and security mirrors for bookworm; DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR win.
debian_mirror() {
  local uri="${DEBIAN_MIRROR:-$(apt_mirror bookworm)}"
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
debian_security_mirror() {
  local uri="${DEBIAN_SECURITY_MIRROR:-$(apt_mirror bookworm-security)}"
  printf '%s\n' "${uri:-http://deb.debian.org/debian-security}"
}

# mirror_add_host_args: `--add-host NAME:IP` for each mirror host name, as this machine resolves
# it. Build containers do not see the host's /etc/hosts (where a mirror may be pinned), so
# `docker build` gets the answer the host's apt would use.
mirror_add_host_args() {
  local uri host ip
  local -A seen=()
  for uri in "$(debian_mirror)" "$(debian_security_mirror)"; do
    host="${uri#*://}"
    host="${host%%/*}"
    host="${host##*@}"
    host="${host%:*}"
    [[ -z "$host" || -n "${seen[$host]:-}" || "$host" =~ ^[0-9.]+$ ]] && continue
    seen[$host]=1
    ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }')"
    [[ -n "$ip" ]] && printf -- '--add-host=%s:%s\n' "$host" "$ip"
  done
  return 0
}

# docker_reachable: true when a Docker engine answers (bounded: a hung socket is "unreachable").
docker_reachable() {
  command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1
}

# image_exists NAME: true when the local engine has the image.
image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}

# docker_build NAME ARG...: `docker build ARG...` with its output in $docker_log_dir/NAME.log
# (streamed too when VERBOSE=1); on failure the log's tail is printed. Images get the label
# io.switchyard.build, so prune_replaced_images finds the ones a rebuild replaced.
docker_log_dir="${SWITCHYARD_DOCKER_LOG_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/docker}"
docker_build() {
  local name="$1" started=$SECONDS status=0
  shift
  mkdir -p "$docker_log_dir"
  local log_file="$docker_log_dir/$name.log"
  if [[ "${VERBOSE:-}" == 1 ]]; then
    docker build --force-rm --label io.switchyard.build=1 "$@" 2>&1 | tee "$log_file" ||
      status=$?
  else
    docker build --force-rm --label io.switchyard.build=1 "$@" >"$log_file" 2>&1 || status=$?
  fi
  if ((status != 0)); then
    tail -n 40 "$log_file" >&2
    die "docker build of $name failed (whole log: $log_file)"
  fi
  log "built $name in $((SECONDS - started)) s"
}

# prune_replaced_images: removes the untagged images our builds left behind when a rebuild moved
# a tag (each source change would otherwise keep hundreds of MB); images of others are untouched.
prune_replaced_images() {
  docker image prune --force --filter label=io.switchyard.build=1 >/dev/null
}

# build_context_tar REPO OUT: the one snapshot every Dockerfile.multi target is built from, what
# .dockerignore lets through (its `!` lines minus the plain patterns listed after them, which tar
# matches as wildcards). The daemon does not filter a context piped in as a tar, so this is the
# filter.
build_context_tar() {
  local repo="$1" out="$2"
  local -a allowed excluded
  mapfile -t allowed < <(sed -n 's,^!\(.*\)$,\1,p' "$repo/.dockerignore")
  mapfile -t excluded < <(grep -v -e '^#' -e '^!' -e '^\*$' -e '^[[:space:]]*$' \
    "$repo/.dockerignore" | sed 's,/$,,; s,^,--exclude=,')
  tar -C "$repo" -cf "$out" --exclude=__pycache__ "${excluded[@]}" Dockerfile.multi \
    .dockerignore "${allowed[@]%/}"
}
