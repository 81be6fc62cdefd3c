namespace KestrelTfo;

/// <summary>
/// Options for the TCP Fast Open transport.
/// </summary>
/// <remarks>
/// Bound from the <c>Kestrel:FastOpen</c> configuration section (see <see cref="ConfigurationSectionName"/>),
/// then from the delegate given to <c>UseFastOpenTransport</c>, so code can override configuration.
/// The socket settings mirror Kestrel's own <c>SocketTransportOptions</c>, with the same defaults.
/// </remarks>
public sealed class FastOpenTransportOptions
{
    /// <summary>
    /// The configuration section the options are bound from: <c>Kestrel:FastOpen</c>.
    /// </summary>
    public const string ConfigurationSectionName = "Kestrel:FastOpen";

    /// <summary>
    /// Gets or sets the maximum number of TCP Fast Open connections that may wait in the accept queue
    /// before their handshake completes. Beyond it, new SYNs with data fall back to a normal handshake
    /// (the kernel counts them as <c>TCPFastOpenListenOverflow</c>).
    /// </summary>
    /// <remarks>
    /// Defaults to 256. Linux uses the value as the queue length; macOS, FreeBSD and Windows only switch
    /// TCP Fast Open on and size the queue themselves. Must be positive.
    /// </remarks>
    public int QueueLength { get; set; } = 256;

    /// <summary>
    /// Gets or sets a value indicating whether start-up fails when TCP Fast Open cannot be enabled on a
    /// listener, instead of serving without it.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: the application always serves, and a warning says how to enable
    /// TCP Fast Open in the kernel.
    /// </remarks>
    public bool RequireFastOpen { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the transport may switch on the kernel's TCP Fast Open
    /// server bit itself when it is off (Linux: <c>net.ipv4.tcp_fastopen</c>, which needs root or
    /// <c>CAP_NET_ADMIN</c> in the network namespace). What it did is logged.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: the transport never changes system settings unless asked to.
    /// </remarks>
    public bool TryEnableKernelSupport { get; set; }

    /// <summary>
    /// Gets or sets the key the listeners make TCP Fast Open cookies with: 16 bytes as 32 hex digits
    /// (for example from <c>openssl rand -hex 16</c>), in the kernel's <c>xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx</c>
    /// form, or in base64. Give every instance behind a load balancer the same key, so that a cookie one
    /// instance issued is valid on all of them.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: listeners use the kernel's key for their network namespace, which
    /// differs per host and changes at reboot. Linux only. When the configuration reloads, a changed key is
    /// applied to every live listener at once; an invalid one is rejected and the keys in force stay.
    /// The key never appears in logs or metrics.
    /// </remarks>
    public string? CookieKey { get; set; }

    /// <summary>
    /// Gets or sets a second key whose cookies are still accepted, for rotation without a lost round trip:
    /// first add the new key here, then, once every instance has it, make it <see cref="CookieKey"/> and move
    /// the old one here, and finally remove the old one. Same format as <see cref="CookieKey"/>, which it needs.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>. Needs Linux 5.3 or later.
    /// </remarks>
    public string? BackupCookieKey { get; set; }

    /// <summary>
    /// Gets or sets the maximum length of the pending connection queue (the <c>listen</c> backlog).
    /// </summary>
    /// <remarks>
    /// Defaults to 512. Must be positive.
    /// </remarks>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// Gets or sets a value indicating whether the Nagle algorithm is disabled on accepted connections.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>.
    /// </remarks>
    public bool NoDelay { get; set; } = true;

    /// <summary>
    /// Gets or sets the number of I/O queues used to process requests. Zero schedules I/O completions
    /// directly on the thread pool.
    /// </summary>
    /// <remarks>
    /// Defaults to the number of processors, at most 16. Must not be negative.
    /// </remarks>
    public int IOQueueCount { get; set; } = Math.Min(Environment.ProcessorCount, 16);

    /// <summary>
    /// Gets or sets a value indicating whether a connection waits for data before it allocates a read buffer.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>, which saves memory on idle connections.
    /// </remarks>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>
    /// Gets or sets the maximum number of bytes buffered from the socket before reads pause.
    /// <see langword="null"/> means no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to 1 MiB. Must not be negative.
    /// </remarks>
    public long? MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets the maximum number of bytes buffered for the socket before writes pause.
    /// <see langword="null"/> means no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to 64 KiB. Must not be negative.
    /// </remarks>
    public long? MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether application code may run inline on I/O threads.
    /// Unsafe: blocking application code then stalls the transport.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>, or to <see langword="true"/> when the environment variable
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> is <c>1</c>, as in Kestrel's socket transport.
    /// </remarks>
    public bool UnsafePreferInlineScheduling { get; set; } =
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
}
