#!/usr/bin/env bash
# TCP Fast Open across a fleet: three instances of samples/HelloFastOpen, each in its own network namespace, behind a
# router namespace, with a client namespace in front (addresses from 198.18.0.0/15 only). Root only.
#   eng/bench-fleet.sh [--scenario all|matrix|rolling|early-data] [--connections 60] [--workers 4] [--settle 2] [--output artifacts/fleet]
# matrix: per balancer (ECMP, DNAT random, round robin, by client address), with one shared key and a key per instance,
#   the share of new connections (curl --tcp-fastopen, one at a time) whose request the fleet took in the SYN.
# rolling: ECMP with one shared key; a client opens new connections continuously while each instance restarts in turn,
#   then while the key rotates in three steps across the fleet; failed connections and TFO share per phase.
# early-data: the instances also serve HTTPS on the TLS layer with TLS 1.3 early data; behind ECMP and random DNAT, with
#   one shared TicketKey and a key per instance, the share of resumed connections (openssl s_client -sess_in
#   -early_data, one at a time) whose early data the fleet accepted; then, behind ECMP with one shared ticket key, a
#   rolling restart (plain, then gated on early data) and a three-step ticket key rotation under load.
# Builds in Release, then runs inside a private network namespace (unshare -n); the fleet's own namespaces are named
# ktfo-fleet-*, and are removed at the end. Writes fleet.md to the output folder and prints it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${1:-}" != "--in-netns" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench-fleet: needs root (network namespaces, links, nftables); run it with sudo" >&2
        exit 2
    fi
    if ! command -v ip >/dev/null || ! command -v nft >/dev/null || ! command -v curl >/dev/null; then
        apt-get update -qq && apt-get install -y -qq iproute2 nftables curl >/dev/null
    fi
    dotnet build samples/HelloFastOpen -c Release -nologo -v quiet
    dotnet build eng/KestrelTfo.FleetBenchmark -c Release -nologo -v quiet
    exec unshare --net -- "$0" --in-netns "$@"
fi
shift

ip link set lo up
exec dotnet eng/KestrelTfo.FleetBenchmark/bin/Release/net10.0/KestrelTfo.FleetBenchmark.dll \
    --app samples/HelloFastOpen/bin/Release/net10.0/HelloFastOpen.dll --command "eng/bench-fleet.sh${*:+ $*}" "$@"
