#!/bin/bash
# The service images' Docker HEALTHCHECK, with nothing installed for it but this script and, for
# gRPC, the small grpc-health-check binary built next to the services.
#
#   healthcheck http PATH   healthy when GET PATH on HTTP_LISTEN's port answers 200 (the gateway)
#   healthcheck grpc        healthy when grpc.health.v1 Check on GRPC_LISTEN's port answers
#                           SERVING (user-service, data-service: only while Redis is reachable)
#
# A listener on a wildcard address (0.0.0.0, ::) is checked through the loopback address.
set -euo pipefail

# reach LISTEN: prints "HOST PORT" to connect to a listener bound to LISTEN (host:port).
reach() {
  local port="${1##*:}" host="${1%:*}"
  host="${host#[}"
  host="${host%]}"
  case "$host" in
    "" | 0.0.0.0 | :: | "*") host=127.0.0.1 ;;
  esac
  printf '%s %s\n' "$host" "$port"
}

case "${1:-}" in
  http)
    path="${2:?usage: healthcheck http PATH}"
    read -r host port < <(reach "${HTTP_LISTEN:-0.0.0.0:8080}")
    exec 3<>"/dev/tcp/$host/$port"
    printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
    IFS=' ' read -r -t 2 _ code _ <&3 || true
    if [[ "${code:-}" != 200 ]]; then
      echo "healthcheck: GET $path answered ${code:-nothing}" >&2
      exit 1
    fi
    ;;
  grpc)
    read -r host port < <(reach "${GRPC_LISTEN:?GRPC_LISTEN is not set}")
    [[ "$host" == *:* ]] && host="[$host]"
    exec grpc-health-check "$host:$port" "" 2000
    ;;
  *)
    echo "usage: healthcheck http PATH | healthcheck grpc" >&2
    exit 2
    ;;
esac
