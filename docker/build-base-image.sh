#!/usr/bin/env bash
# Builds, with no registry, the images everything else starts FROM:
#
#   debian:bookworm-slim, debian:bookworm  one debootstrap'd Debian 12 (variant minbase) from the
#                                          mirror this machine's apt uses, trimmed (no docs, man
#                                          pages, locales, apt lists or caches), `docker import`ed
#                                          and tagged twice (the builder stage installs what it
#                                          needs on top, so it needs no fuller base)
#   switchyard/redis:7                     Debian's redis-server on that base (docker/redis/)
#
# The Debian images are made only when missing (FORCE=1 remakes them); the Redis image is always
# rebuilt through docker's layer cache, which takes a second when nothing changed.
#
# Settings (environment): FORCE=1; DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (default: from
# /etc/apt/sources.list and /etc/apt/sources.list.d); SWITCHYARD_REDIS_IMAGE.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log_prefix=base-image
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$repo/docker/lib.sh"

slim_image=debian:bookworm-slim
full_image=debian:bookworm
redis_image="${SWITCHYARD_REDIS_IMAGE:-switchyard/redis:7}"

docker_reachable || die "no Docker engine answers ('docker info' failed)"

# configure_rootfs ROOTFS MIRROR SECURITY_MIRROR CHECK_VALID_UNTIL CHECK_DATE: runs as root.
# Turns a fresh debootstrap tree into what an official slim image holds.
configure_rootfs() {
  local rootfs="$1" mirror="$2" security="$3" check_valid_until="$4" check_date="$5"
  cd "$rootfs"

  # The same sources as the official image: the release, its updates and security.
  rm -f etc/apt/sources.list
  cat >etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # The release-file checks this machine's apt relaxes (e.g. for a snapshot mirror) are relaxed
  # in the image too; otherwise apt in a build step would refuse the mirror apt here accepts.
  : >etc/apt/apt.conf.d/50switchyard-mirror
  [[ "$check_valid_until" == false ]] &&
    echo 'Acquire::Check-Valid-Until "false";' >>etc/apt/apt.conf.d/50switchyard-mirror
  [[ "$check_date" == false ]] &&
    echo 'Acquire::Check-Date "false";' >>etc/apt/apt.conf.d/50switchyard-mirror
  [[ -s etc/apt/apt.conf.d/50switchyard-mirror ]] || rm etc/apt/apt.conf.d/50switchyard-mirror

  # Packages installed later stay slim too: dpkg skips docs, man pages and translations.
  cat >etc/dpkg/dpkg.cfg.d/switchyard-slim <<'EOF'
# Container image: no documentation or translations (copyright files stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  # apt keeps no .deb files, no binary caches and no translations, and keeps its lists gzipped.
  cat >etc/apt/apt.conf.d/50switchyard-slim <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
APT::AutoRemove::SuggestsImportant "false";
EOF
  # Package scripts must not start daemons in an image build.
  printf '#!/bin/sh\n# Never start services while building an image.\nexit 101\n' >usr/sbin/policy-rc.d
  chmod 755 usr/sbin/policy-rc.d

  # Trim what the excludes above would not have installed.
  find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find usr/share/doc -mindepth 1 -type d -empty -delete
  rm -rf usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* \
    usr/share/linda/*
  find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old var/lib/dpkg/*-old \
    var/cache/ldconfig/aux-cache tmp/* var/tmp/* root/.bash_history
  find var/log -type f -delete
  # Host identity does not belong in an image: Docker supplies these at run time.
  rm -f etc/hostname
  : >etc/resolv.conf
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >etc/hosts
  : >etc/machine-id
}

build_debian() {
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
      --no-install-recommends debootstrap >/dev/null
  fi
  local mirror security check_valid_until=true check_date=true
  mirror="$(debian_mirror)"
  security="$(debian_security_mirror)"
  eval "$(apt-config shell check_valid_until Acquire::Check-Valid-Until check_date Acquire::Check-Date)"

  local work
  work="$(mktemp -d /var/tmp/switchyard-rootfs.XXXXXX)"
  # debootstrap mounts proc and sys in the target and unmounts them itself; should it die midway,
  # unmount before removing so nothing outside the tree is touched.
  cleanup_rootfs() {
    local mount_point
    for mount_point in $(findmnt -rn -o TARGET | grep "^$work/" | sort -r); do
      as_root umount -l "$mount_point" || true
    done
    as_root rm -rf --one-file-system "$work"
  }
  trap cleanup_rootfs EXIT

  local -a include=()
  [[ "$mirror" == https:* ]] && include=(--include=ca-certificates)
  log "debootstrap bookworm (minbase) from $mirror"
  as_root debootstrap --variant=minbase --arch="$(dpkg --print-architecture)" "${include[@]}" \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed (last lines above)"
  }
  as_root bash -c "set -euo pipefail; $(declare -f configure_rootfs); configure_rootfs \"\$@\"" \
    configure "$work/rootfs" "$mirror" "$security" "$check_valid_until" "$check_date"

  log "importing $slim_image ($(as_root du -sh --exclude=./proc --exclude=./sys "$work/rootfs" | cut -f1))"
  as_root tar -C "$work/rootfs" --numeric-owner --xattrs -c \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --message "debootstrap --variant=minbase bookworm $mirror" \
      - "$slim_image" >/dev/null
  docker tag "$slim_image" "$full_image"
  cleanup_rootfs
  trap - EXIT
}

if [[ "${FORCE:-}" == 1 ]] || ! image_exists "$slim_image"; then
  build_debian
else
  log "$slim_image exists (FORCE=1 rebuilds it)"
  image_exists "$full_image" || docker tag "$slim_image" "$full_image"
fi

mapfile -t add_hosts < <(mirror_add_host_args)
log "building $redis_image"
docker_build redis "${add_hosts[@]}" -t "$redis_image" -f "$repo/docker/redis/Dockerfile" \
  "$repo/docker/redis"
prune_replaced_images
log "done: $slim_image, $full_image, $redis_image"
