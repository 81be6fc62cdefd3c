#!/usr/bin/env bash
# The package experience, as a user has it: the three packages packed into a local feed, a fresh app from the SDK's own
# `dotnet new web` template with KestrelTfo added from that feed and the README's one line, and the doctor installed
# from the same feed as a .NET tool.
#
#   eng/package-test.sh prepare DIR   outside any network namespace, after a build: packs into artifacts/feed, creates,
#                                     restores and builds the app in DIR and installs the doctor there (needs the feed)
#   eng/package-test.sh run DIR       inside eng/test.sh's namespace (tcp_fastopen=3): runs the app, proves with
#                                     curl --tcp-fastopen that the kernel counted TCP Fast Open, runs the doctor's self-test
#
# DIR is the caller's, which removes it. Exits 0 when the check passed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
configuration=${CONFIGURATION:-Release}
feed=$root/artifacts/feed
packages=(KestrelTfo KestrelTfo.Client KestrelTfo.Doctor)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
say() { echo "eng/package-test.sh: $*"; }
fail() { say "FAILED: $*" >&2; exit 1; }
# Runs a command whose output matters only when it fails.
quietly() {
    local output
    output=$("$@" 2>&1) || { echo "$output" >&2; fail "$*"; }
}

[[ $# -eq 2 && -d "$2" ]] || fail "usage: $0 prepare|run DIR (an existing directory)"
work=$(cd "$2" && pwd)
# NuGet's cache of this check alone: a package of the same version cached by an earlier build is never used instead.
export NUGET_PACKAGES=$work/packages
app=$work/app
tools=$work/tools

# Whether NuGet installed the very file packed into the feed (NuGet keeps a copy of each package it installs).
installed_from_feed() {
    cmp -s "$1" "$feed/$2"
}

prepare() {
    # The one version of the three packages, from Directory.Build.props.
    version=$(dotnet msbuild "$root/src/KestrelTfo/KestrelTfo.csproj" -getProperty:Version) || fail "could not read the packages' version"
    mkdir -p "$feed"
    for package in "${packages[@]}"; do
        rm -f "$feed/$package.$version.nupkg" "$feed/$package.$version.snupkg"
        quietly dotnet pack "$root/src/$package/$package.csproj" -c "$configuration" --no-build -nologo -o "$feed"
        [[ -f "$feed/$package.$version.nupkg" && -f "$feed/$package.$version.snupkg" ]] || fail "$package $version: no .nupkg and .snupkg in $feed"
    done
    say "packed ${packages[*]} $version with symbols into $feed"

    quietly dotnet new web --name FastOpenApp --output "$app" --no-restore
    # The local feed on top of the sources this machine's NuGet configuration already has.
    cat > "$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="kestreltfo-local" value="$feed" />
  </packageSources>
</configuration>
EOF
    quietly dotnet add "$app" package KestrelTfo --version "$version"
    installed_from_feed "$NUGET_PACKAGES/kestreltfo/$version/kestreltfo.$version.nupkg" "KestrelTfo.$version.nupkg" \
        || fail "the app's KestrelTfo $version is not the package in $feed"

    # The README's one line, right after the builder is made; UseFastOpenTransport is in a namespace web apps import.
    sed -i '/WebApplication.CreateBuilder(args);/a builder.WebHost.UseFastOpenTransport();' "$app/Program.cs"
    grep -qx 'builder.WebHost.UseFastOpenTransport();' "$app/Program.cs" || fail "the template's Program.cs has no WebApplication.CreateBuilder(args) line to follow"
    quietly dotnet build "$app" -c Release -nologo
    say "built a new 'dotnet new web' app with KestrelTfo $version and builder.WebHost.UseFastOpenTransport()"

    quietly dotnet tool install --tool-path "$tools" --add-source "$feed" KestrelTfo.Doctor --version "$version"
    installed_from_feed "$tools/.store/kestreltfo.doctor/$version/kestreltfo.doctor/$version/kestreltfo.doctor.$version.nupkg" "KestrelTfo.Doctor.$version.nupkg" \
        || fail "the installed KestrelTfo.Doctor $version is not the package in $feed"
    say "installed the KestrelTfo.Doctor $version tool from $feed"
    echo "$version" > "$work/version"
}

# TCP Fast Open connections this namespace's kernel accepted with data in the SYN.
passive_count() {
    nstat -asz TcpExtTCPFastOpenPassive | awk '$1 == "TcpExtTCPFastOpenPassive" { print $2 }'
}

# Ends the app, if this script started it, whether the check passed or not.
stop_app() {
    if [[ -n "${app_pid:-}" ]]; then
        kill "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
}

run() {
    [[ -f "$work/version" ]] || fail "the prepare phase did not finish"
    local version log
    version=$(cat "$work/version")
    log=$work/app.log
    app_pid=
    trap stop_app EXIT
    trap 'exit 143' TERM INT

    # Bounded whatever happens to this script; port 0, so it cannot meet a port left taken.
    : >"$log"
    timeout --kill-after=5 120 dotnet "$app/bin/Release/net10.0/FastOpenApp.dll" --urls http://127.0.0.1:0 >"$log" 2>&1 &
    app_pid=$!
    # Kestrel names the port it bound once it listens; asked every 0.1 s, for 30 s at most.
    local url= attempts=0
    until url=$(sed -n 's/.*Now listening on: \(http:[^ ]*\).*/\1/p' "$log" | head -n 1); [[ -n "$url" ]]; do
        kill -0 "$app_pid" 2>/dev/null || { cat "$log" >&2; fail "the app exited before it listened"; }
        ((++attempts <= 300)) || { cat "$log" >&2; fail "the app did not listen within 30 s"; }
        sleep 0.1
    done
    say "app: $(grep -m 1 'with TCP Fast Open' "$log" | sed 's/^ *//' || echo 'no listener line from KestrelTfo')"

    # The first connection fetches a cookie; the second carries its request in the SYN.
    local first second before after
    first=$(curl --tcp-fastopen -sS --max-time 10 "$url/") || fail "the first GET $url/ failed"
    before=$(passive_count)
    second=$(curl --tcp-fastopen -sS --max-time 10 "$url/") || fail "the second GET $url/ failed"
    after=$(passive_count)
    [[ "$first" == "Hello World!" && "$second" == "Hello World!" ]] || fail "the app answered '$first' and '$second'"
    [[ $after -eq $((before + 1)) ]] || { cat "$log" >&2; fail "TCPFastOpenPassive went from $before to $after over the second request, not up by 1"; }
    say "curl --tcp-fastopen $url/ twice: 'Hello World!' both times; the kernel's TCPFastOpenPassive $before -> $after"

    local doctor_version code=0
    doctor_version=$(timeout 30 "$tools/kestreltfo-doctor" --version)
    [[ "$doctor_version" == "$version" || "$doctor_version" == "$version+"* ]] || fail "kestreltfo-doctor --version said '$doctor_version', not $version"
    timeout 60 "$tools/kestreltfo-doctor" || code=$?
    [[ $code -eq 0 ]] || fail "kestreltfo-doctor exited $code, not 0"
    say "kestreltfo-doctor $doctor_version self-test: exit 0"
    say "passed"
}

case $1 in
    prepare) prepare ;;
    run) run ;;
    *) fail "usage: $0 prepare|run DIR" ;;
esac
