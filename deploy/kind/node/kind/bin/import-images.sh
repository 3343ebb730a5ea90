#!/bin/bash
# Imports /kind/images/*.tar into containerd's k8s.io namespace (switchyard-import-images.service).
set -euo pipefail
for _ in $(seq 100); do
  ctr version >/dev/null 2>&1 && break
  sleep 0.2 # waiting, bounded, for containerd's socket
done
snapshotter="$(sed -n 's/^ *snapshotter = "\(.*\)"/\1/p' /etc/containerd/config.toml | head -n 1)"
for archive in /kind/images/*.tar; do
  ctr --namespace=k8s.io images import --snapshotter="${snapshotter:-overlayfs}" "$archive"
done
