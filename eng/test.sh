#!/usr/bin/env bash
# Restores, builds and runs every test, then prints "N passed, N failed, N skipped".
#
# As root, the tests run inside a private network namespace (unshare -n) with loopback up and
# net.ipv4.tcp_fastopen=3, so TCP Fast Open is on for them and nothing outside the namespace changes.
# Not root: the TCP Fast Open tests skip with a reason. With CI=true a skipped test fails the run.
# The package check (eng/package-test.sh) counts as one test: it packs, builds a fresh app from the packages and installs
# the doctor outside the namespace, then runs both inside it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
configuration=${CONFIGURATION:-Release}
tests=(KestrelTfo.Tests KestrelTfo.FunctionalTests KestrelTfo.Eng.Tests)

if [[ "${1:-}" != "--in-netns" ]]; then
    # The Debian packages the tests drive: ip (namespaces, links), curl (a TCP Fast Open client from outside .NET),
    # nft (the DNAT balancers of the fleet tests), openssl (s_client, an interop client of the TLS layer), nginx (the
    # reference HTTPS server with TCP Fast Open and TLS 1.3 early data that clients are tried against: NginxServer;
    # Debian puts it in /usr/sbin).
    if [[ $(id -u) -eq 0 ]] && { ! command -v ip || ! command -v curl || ! command -v nft || ! command -v openssl || ! command -v nginx; } >/dev/null; then
        apt-get update -qq && apt-get install -y -qq iproute2 curl nftables openssl nginx >/dev/null
    fi

    # Restore and build before entering the namespace: it has no route to the package feed.
    dotnet restore KestrelTfo.sln
    # The .NET tools the tests run (dotnet-counters), pinned in .config/dotnet-tools.json.
    dotnet tool restore
    dotnet build KestrelTfo.sln -c "$configuration" --no-restore -nologo -v quiet

    if [[ $(id -u) -eq 0 ]]; then
        # Removed whatever happens inside; the namespace's run fails the package check if its preparation did not finish.
        package_work=$(mktemp -d)
        trap 'rm -rf "$package_work"' EXIT
        trap 'exit 143' TERM INT
        timeout --kill-after=30 900 eng/package-test.sh prepare "$package_work" || echo "eng/test.sh: the package check's preparation failed" >&2
        set +e
        unshare --net -- "$0" --in-netns "$package_work"
        exit $?
    fi
    echo "eng/test.sh: not root, so the TCP Fast Open tests and the package check skip (run as root to run them in a private network namespace)" >&2
else
    package_work=$2
    ip link set lo up
    echo 3 > /proc/sys/net/ipv4/tcp_fastopen
    # Tests drop SYNs with data on purpose; before Linux 5.14 that would pause client TFO for the whole namespace.
    echo 0 > /proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec
    # Names this namespace, so tests that change its sysctl can check they are inside it.
    KESTRELTFO_TEST_NETNS=$(readlink /proc/self/ns/net)
    export KESTRELTFO_TEST_NETNS
    echo "eng/test.sh: in a private network namespace, net.ipv4.tcp_fastopen=$(cat /proc/sys/net/ipv4/tcp_fastopen)"
fi

passed=0 failed=0 skipped=0 status=0
# xunit's result files, one per project, read at the end for the slowest test classes.
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for project in "${tests[@]}"; do
    log=$(mktemp)
    # Bounded: a hung test run ends here rather than at CI's limit.
    set +e
    timeout --kill-after=30 1500 dotnet "tests/$project/bin/$configuration/net10.0/$project.dll" -noLogo -noColor -xml "$results/$project.xml" 2>&1 | tee "$log"
    code=${PIPESTATUS[0]}
    set -e
    summary=$(grep -E "^\s*$project\s+Total: [0-9]+" "$log" | tail -n 1 || true)
    rm -f "$log"
    if [[ -z "$summary" ]]; then
        echo "eng/test.sh: $project ended (exit $code) without a summary" >&2
        failed=$((failed + 1)) status=1
        continue
    fi
    total=$(sed -E 's/.*Total: ([0-9]+).*/\1/' <<<"$summary")
    errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$summary")
    fail=$(sed -E 's/.*Failed: ([0-9]+).*/\1/' <<<"$summary")
    skip=$(sed -E 's/.*Skipped: ([0-9]+).*/\1/' <<<"$summary")
    notrun=$(sed -E 's/.*Not Run: ([0-9]+).*/\1/' <<<"$summary")
    passed=$((passed + total - fail - skip - notrun))
    failed=$((failed + fail + errors))
    skipped=$((skipped + skip + notrun))
    if [[ $code -ne 0 || $fail -ne 0 || $errors -ne 0 ]]; then status=1; fi
done

if [[ -n "${package_work:-}" ]]; then
    if timeout --kill-after=10 300 eng/package-test.sh run "$package_work"; then
        passed=$((passed + 1))
    else
        echo "eng/test.sh: the package check failed" >&2
        failed=$((failed + 1)) status=1
    fi
else
    skipped=$((skipped + 1))
fi

# The suite's cost stays visible: the test classes whose tests took longest, summed from xunit's own timing of each test
# (tests of one class run one after another, so the sum is the class's share of the run).
echo "eng/test.sh: slowest test classes (seconds, tests):"
cat "$results"/*.xml 2>/dev/null \
    | grep -o '<test [^>]*>' \
    | sed -nE 's/.* time="([0-9.]+)".* type="([^"]+)".*/\2 \1/p' \
    | awk '{ seconds[$1] += $2; count[$1]++ } END { for (c in seconds) printf "%8.1f %4d  %s\n", seconds[c], count[c], c }' \
    | sort -rn | head -n 15 || true

if [[ "${CI:-}" == "true" && $skipped -ne 0 ]]; then
    echo "eng/test.sh: CI=true and $skipped test(s) skipped; under CI every test must run" >&2
    status=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
exit $status
