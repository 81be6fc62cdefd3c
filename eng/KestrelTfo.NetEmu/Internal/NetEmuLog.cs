using System.Net;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>The emulated link's log messages. Event ids are fixed (range 60-79): never reuse or renumber one.</summary>
internal static partial class NetEmuLog
{
    [LoggerMessage(60, LogLevel.Information,
        "Emulated link up: server {ServerAddress} on {ServerDevice}, client {ClientAddress} on {ClientDevice} in {ClientNamespace}; to server: {ToServer}; to client: {ToClient}.",
        EventName = "LinkStarted")]
    public static partial void LinkStarted(
        ILogger logger, IPAddress serverAddress, string serverDevice, IPAddress clientAddress, string clientDevice, string clientNamespace, string toServer, string toClient);

    [LoggerMessage(61, LogLevel.Information, "Emulated link {ServerAddress} <-> {ClientAddress} down; to server: {ToServer}; to client: {ToClient}.",
        EventName = "LinkStopped")]
    public static partial void LinkStopped(ILogger logger, IPAddress serverAddress, IPAddress clientAddress, LinkDirectionStatistics toServer, LinkDirectionStatistics toClient);

    [LoggerMessage(62, LogLevel.Information, "Removed network namespace {Namespace}, left over from an emulated link whose process is gone.",
        EventName = "LeftoverNamespaceRemoved")]
    public static partial void LeftoverNamespaceRemoved(ILogger logger, string @namespace);

    [LoggerMessage(63, LogLevel.Debug, "Kept network namespace {Namespace}: a process is still in it.", EventName = "NamespaceInUse")]
    public static partial void NamespaceInUse(ILogger logger, string @namespace);

    [LoggerMessage(64, LogLevel.Error, "The emulated link stopped reading {Direction} packets: errno {Errno}.", EventName = "ReadFailed")]
    public static partial void ReadFailed(ILogger logger, string direction, int errno);

    [LoggerMessage(65, LogLevel.Warning, "The emulated link could not deliver a {Direction} packet (errno {Errno}); later failures are not logged.",
        EventName = "WriteFailed")]
    public static partial void WriteFailed(ILogger logger, string direction, int errno);

    [LoggerMessage(66, LogLevel.Debug, "Created network namespace {Namespace}.", EventName = "NamespaceCreated")]
    public static partial void NamespaceCreated(ILogger logger, string @namespace);
}
