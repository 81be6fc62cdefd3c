#!/usr/bin/env bash
# The emulated WAN link's command line (root only): builds eng/KestrelTfo.NetEmu.Cli in Release and runs it.
#   eng/netemu.sh up --rtt 50                  # kestreltfo-link-server / kestreltfo-link-client until Ctrl+C
#   eng/netemu.sh measure --pps 10000          # forwarding rate and added delay
#   eng/netemu.sh cleanup                      # namespaces left by crashed runs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dotnet build "$root/eng/KestrelTfo.NetEmu.Cli" -c Release -nologo -v quiet >&2
exec dotnet "$root/eng/KestrelTfo.NetEmu.Cli/bin/Release/net10.0/netemu.dll" "$@"
