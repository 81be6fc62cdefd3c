// Records the first flight of real TLS clients: listens on a loopback port, lets one client connect,
// reads the records that carry its ClientHello, closes the connection and writes the bytes to a file.
// The client then fails its handshake; that is expected and ignored.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: CaptureClientHellos <output directory>");
    return 2;
}

var output = Directory.CreateDirectory(args[0]).FullName;
var clients = new (string File, Func<int, Task> Connect)[]
{
    ("sslstream-tls12.bin", port => SslStreamClient(port, SslProtocols.Tls12)),
    ("sslstream-tls13.bin", port => SslStreamClient(port, SslProtocols.Tls13)),
    ("curl-tls12.bin", port => Curl(port, "--tlsv1.2", "--tls-max", "1.2")),
    ("curl-tls13.bin", port => Curl(port, "--tlsv1.3")),
};

foreach (var (file, connect) in clients)
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;

    var client = connect(port);
    byte[] hello;
    using (var accepted = await listener.AcceptSocketAsync(timeout.Token))
    {
        hello = await ReadClientHello(accepted, timeout.Token);
    }

    // The client sees the connection close and gives up; only a hang would be a problem.
    await client.WaitAsync(timeout.Token);
    await File.WriteAllBytesAsync(Path.Combine(output, file), hello, timeout.Token);
    Console.WriteLine($"{file}: {hello.Length} bytes");
}

return 0;

// Reads whole TLS records until they hold the complete first handshake message.
static async Task<byte[]> ReadClientHello(Socket socket, CancellationToken cancellationToken)
{
    var received = new MemoryStream();
    var handshakeBytes = 0;
    var handshakeLength = -1;
    var header = new byte[5];
    while (handshakeLength < 0 || handshakeBytes < handshakeLength + 4)
    {
        await ReadExactly(socket, header, cancellationToken);
        if (header[0] != 22)
        {
            throw new InvalidDataException($"expected a handshake record, got content type {header[0]}");
        }

        var fragment = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3))];
        await ReadExactly(socket, fragment, cancellationToken);
        received.Write(header);
        received.Write(fragment);

        // Assumes the first record holds the 4-byte handshake header, as every client here does.
        if (handshakeLength < 0)
        {
            handshakeLength = (fragment[1] << 16) | (fragment[2] << 8) | fragment[3];
        }

        handshakeBytes += fragment.Length;
    }

    return received.ToArray();
}

static async Task ReadExactly(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
{
    while (!buffer.IsEmpty)
    {
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        if (read == 0)
        {
            throw new EndOfStreamException("the client closed before sending a whole ClientHello");
        }

        buffer = buffer[read..];
    }
}

static async Task SslStreamClient(int port, SslProtocols protocol)
{
    using var tcp = new TcpClient();
    await tcp.ConnectAsync(IPAddress.Loopback, port);
    using var tls = new SslStream(tcp.GetStream());
    try
    {
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "example.test",
            EnabledSslProtocols = protocol,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        });
    }
    catch (Exception e) when (e is IOException or AuthenticationException)
    {
        // The listener closes after reading the hello.
    }
}

// curl sends SNI only for a host name, so resolve one to loopback instead of connecting to an address.
static async Task Curl(int port, params string[] versionArguments)
{
    var start = new ProcessStartInfo("curl") { RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (var argument in (string[])[
        "--silent", "--max-time", "15", .. versionArguments,
        "--resolve", $"example.test:{port}:127.0.0.1", $"https://example.test:{port}/"])
    {
        start.ArgumentList.Add(argument);
    }

    using var curl = Process.Start(start)!;
    await curl.StandardOutput.ReadToEndAsync();
    await curl.StandardError.ReadToEndAsync();
    await curl.WaitForExitAsync();
}
