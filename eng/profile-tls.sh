#!/usr/bin/env bash
# Where the server's CPU goes under keep-alive HTTPS load, for one TLS stack of the TLS benchmark's server: perf samples
# with DWARF call graphs while wrk (HTTP/1.1) or h2load (HTTP/2) runs, sorted into the memory-BIO copies, the rest of
# OpenSSL, the kernel and the rest (runtime, Kestrel). The copies are what a BIO of our own over the pipes' memory
# could save; the SslStream rows show the same for the runtime's pump, which also runs over memory BIOs.
# With --load handshakes-full or handshakes-resumed, the load is the TLS benchmark's own handshake client instead
# (--clients of them at once, each one connection at a time: a TLS 1.3 handshake, new or resuming the last ticket, and one
# GET /, as bench-tls.sh), the samples are sorted into OpenSSL's public-key work, the rest of OpenSSL, the TLS stack's
# own managed code (KestrelTfo.Tls, or System.Net.Security with Kestrel's HttpsConnectionMiddleware; W^X is off so that
# perf can name JIT code, which costs both stacks a little), the runtime's spin-waits (sched_yield), the rest of the
# kernel and the rest of the runtime with Kestrel, and the server's CPU per handshake over the sampled seconds is
# printed with them.
#   eng/profile-tls.sh [--stack layer|sslstream] [--http 1.1|2] [--path /|/1mb] [--seconds 10]
#   eng/profile-tls.sh [--stack layer|sslstream] --load handshakes-full|handshakes-resumed [--clients 1] [--seconds 10]
# Root: runs in a private network namespace, as bench-tls.sh does. Needs perf (Debian: linux-perf).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
stack=layer http=1.1 path=/1mb seconds=10 mode=keepalive clients=1
if [[ "${1:-}" != "--in-netns" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "profile-tls: needs root (a private network namespace, perf); run it with sudo" >&2
        exit 2
    fi
    { command -v perf && command -v objdump && command -v wrk && command -v h2load; } >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq linux-perf binutils wrk nghttp2-client >/dev/null; }
    dotnet build eng/KestrelTfo.TlsBenchmark -c Release -nologo -v quiet
    exec unshare --net -- "$0" --in-netns "$@"
fi
shift
while [[ $# -gt 0 ]]; do
    case $1 in
        --stack) stack=$2; shift 2 ;;
        --http) http=$2; shift 2 ;;
        --path) path=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --load) mode=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        *) echo "profile-tls: unknown option $1" >&2; exit 2 ;;
    esac
done
ip link set lo up
echo 3 > /proc/sys/net/ipv4/tcp_fastopen
work=$(mktemp -d)
# The server's perf maps go too, once perf script has read them.
trap 'rm -rf "$work" "/tmp/perf-${pid:-0}.map" "/tmp/perfinfo-${pid:-0}.map"' EXIT

# The server prints "layer IP:PORT sslstream IP:PORT pid PID certificate HASH" and serves until its standard input
# ends. A perf map names its JIT-compiled methods (W^X off, or perf cannot read them).
benchmark=eng/KestrelTfo.TlsBenchmark/bin/Release/net10.0/KestrelTfo.TlsBenchmark.dll
coproc server { DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 exec dotnet "$benchmark" --serve; }
read -r -a started <&"${server[0]}"
endpoint=${started[1]}
[[ $stack == sslstream ]] && endpoint=${started[3]}
pid=${started[5]}
load() {
    if [[ $mode == handshakes-* ]]; then
        # "CONNECTIONS RESUMED"
        dotnet "$benchmark" --handshake-loop "${endpoint##*:}" "$1" "${mode#handshakes-}" "${started[7]}" "$clients"
    elif [[ $http == 2 ]]; then
        # As the benchmark's HTTP/2 rows: 10 streams per connection for small responses, one for 1 MB ones.
        h2load -t1 -c16 -m"$([[ $path == / ]] && echo 10 || echo 1)" -D"$1" "https://$endpoint$path" | grep -E "finished in"
    else
        wrk -t1 -c16 -d"$1"s "https://$endpoint$path" | grep -E "Requests/sec"
    fi
}

cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # the server's user + system time, in clock ticks

load 5 >/dev/null # warm-up: JIT, tiering, pools
perf record -q -F 499 --call-graph dwarf,16384 -p "$pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null &
recorder=$!
before=$(cpu)
loaded=$(load "$seconds")
after=$(cpu)
wait "$recorder" || true
exec {server[1]}>&-
wait "$server_PID" || true

if [[ $mode == handshakes-* ]]; then
    read -r connections resumed _ <<<"$loaded"
    echo "$stack, $mode, $clients at once: $connections connections in $seconds s, $resumed resumed; server CPU $(awk -v n="$connections" \
        -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f µs per handshake", 1e6 * t / hz / n }') (perf's sampling included)"
    echo "share of the server's CPU samples"
    # libcrypto's own functions have no symbols in Debian's build, and EVP_PKEY_derive tail-calls the provider's, so
    # public-key work is found by where libssl calls it: the return addresses of its calls to these EVP functions.
    objdump -d --no-show-raw-insn "$(ldd "$(command -v openssl)" | awk '/libssl\.so/ { print $3 }')" | awk '
        call { sub(":", "", $1); print $1; call = 0 }
        /call.*<EVP_(PKEY_derive|PKEY_keygen|PKEY_generate|PKEY_sign|DigestSign|DigestSignFinal)@plt>/ { call = 1 }' |
        while read -r address; do printf '%x\n' $((16#$address - 1)); done >"$work/pk" # perf shows a return address - 1
    perf script -i "$work/perf.data" -F ip,sym,dso 2>/dev/null | awk -v pkfile="$work/pk" '
        BEGIN { while ((getline a < pkfile) > 0) pkCall[a] = 1 }
        function settle() {
            if (frames == 0) return
            if (pk) c = "OpenSSL: public-key work (X25519 key share, ECDSA signature: EC, bignum)"
            else if (openssl) c = "OpenSSL: the rest (hashing, HKDF, AEAD, tickets, handshake state machine, allocations)"
            else if (own) c = "TLS stack: its own managed code (KestrelTfo.Tls; System.Net.Security, HttpsConnectionMiddleware)"
            else if (kernel && yield) c = "runtime: spin-waits yielding the CPU (sched_yield, its context switches)"
            else if (kernel) c = "kernel: the rest (connection setup and teardown, TCP, epoll, futex, wake-ups)"
            else if (runtime) c = "runtime and Kestrel (managed code, GC, JIT, thread pool, native shims)"
            else c = "other (libc, loader, unwound no further)"
            count[c]++; total++
            frames = pk = openssl = kernel = yield = runtime = own = 0
        }
        NF == 0 { settle(); next }
        {
            frames++
            if (frames == 1 && /kernel.kallsyms/) kernel = 1
            # Where the sample fell: in the managed code of the TLS stack itself, not in what it called.
            # SslStream path: System.Net.Security (named by the perf map once tiered up; ReadyToRun code by its .dll) and
            # Kestrel HttpsConnectionMiddleware around it, as the layer has its own glue to Kestrel inside KestrelTfo.Tls.
            if (frames == 1 && /\[KestrelTfo\] KestrelTfo\.(Tls|OpenSsl)\.|\[System\.Net\.Security\] |System\.Net\.Security\.dll|Https\.Internal\.HttpsConnectionMiddleware/) own = 1
            if (/lib(ssl|crypto)\.so/) openssl = 1
            if ($2 == "__x64_sys_sched_yield") yield = 1 # Thread.Yield in spin-waits (thread pool, SpinWait)
            if (/libssl\.so/ && pkCall[$1]) pk = 1
            if (/libcrypto\.so/ && $2 ~ /^(EVP_PKEY_(derive|keygen|generate|sign)|EVP_DigestSign|ECDSA_|ECDH_|EC_(POINT|KEY)_|BN_)/)
                pk = 1
            # The runtime libraries, and JIT code (named by the perf map; memfd:doublemapper or unknown without one)
            if (/libcoreclr|libclrjit|Microsoft\.(NETCore|AspNetCore)\.App|KestrelTfo|perf-[0-9]+\.map|memfd|\(deleted\)/ || $NF == "([unknown])")
                runtime = 1
        }
        END {
            settle()
            for (c in count) printf "%6.2f%%  %s\n", 100 * count[c] / total, c | "sort -rn"
            close("sort -rn")
            printf "%d samples\n", total
        }'
    exit
fi

echo "$loaded"
echo "$stack, HTTP/$http, $path: share of the server's CPU samples"
perf script -i "$work/perf.data" -F ip,sym,dso 2>/dev/null | awk '
    function settle() {
        if (frames == 0) return
        # A page fault there is the first touch of the transport buffer it copies into: a BIO of our own would pay it too.
        if (bioRead && !sslCall && kernel) c = "memory BIO: page faults of the transport buffers copied into (BIO_read, the pump)"
        else if (bioRead && !sslCall) c = "memory BIO: ciphertext copied out of the write BIO (BIO_read, the pump)"
        else if (bioWrite && !sslCall) c = "memory BIO: ciphertext copied into the read BIO (BIO_write, the pump)"
        else if (bioWrite && sslWrite) c = "memory BIO: records copied into the write BIO (BIO_write in SSL_write)"
        else if (bioRead && sslRead) c = "memory BIO: records copied out of the read BIO (BIO_read in SSL_read)"
        else if (sslWrite) c = "OpenSSL: the rest of SSL_write (encryption)"
        else if (sslRead) c = "OpenSSL: the rest of SSL_read (decryption)"
        else if (openssl) c = "OpenSSL: other calls (handshakes, error queue, BIO_ctrl_pending)"
        else if (kernel) c = "kernel"
        else c = "everything else (runtime, GC, JIT, Kestrel, pipes)"
        count[c]++; total++
        frames = bioRead = bioWrite = sslWrite = sslRead = sslCall = openssl = kernel = 0
    }
    NF == 0 { settle(); next }
    {
        frames++
        if (frames == 1 && /kernel.kallsyms/) kernel = 1
        if (/lib(ssl|crypto)\.so/) openssl = 1
        if ($2 == "BIO_read") bioRead = 1
        if ($2 == "BIO_write") bioWrite = 1
        if ($2 ~ /^SSL_write/) { sslWrite = 1; sslCall = 1 }
        if ($2 ~ /^SSL_(read|do_handshake)/) { sslRead = 1; sslCall = 1 }
        if ($2 ~ /^SSL_/) sslCall = 1
    }
    END {
        settle()
        for (c in count) printf "%6.2f%%  %s\n", 100 * count[c] / total, c | "sort -rn"
        close("sort -rn")
        printf "%d samples\n", total
    }'
