#!/usr/bin/env bash
# Regenerates the real ClientHellos the classifier tests use (tests/KestrelTfo.Tests/TestData/ClientHellos):
# a loopback listener records the first flight of SslStream (TLS 1.2 only, TLS 1.3 only) and curl
# (--tlsv1.2 --tls-max 1.2, --tlsv1.3). Each hello has fresh random bytes and keys, so files change on
# every run; the tests depend only on their structure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/tests/KestrelTfo.Tests/TestData/ClientHellos"
dotnet run --project "$root/eng/CaptureClientHellos" -c Release -- "$out"

{
    echo "Captured by eng/capture-client-hellos.sh on $(date -u +%Y-%m-%d)."
    echo ".NET $(dotnet --version); $(curl --version | head -n 1)"
} > "$out/SOURCES.txt"
