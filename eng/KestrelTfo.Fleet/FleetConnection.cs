namespace KestrelTfo.Fleet;

/// <summary>One client connection to the service address, as both ends saw it.</summary>
/// <param name="Succeeded">The client got a whole answer.</param>
/// <param name="ClientFastOpen">
/// The client's kernel counted the SYN's data as acknowledged (<c>TCPFastOpenActive</c> rose by one in the client's
/// namespace, where nothing else connects meanwhile).
/// </param>
/// <param name="ServerFastOpen">The instance that answered says the connection's SYN carried the request.</param>
public sealed record FleetConnection(bool Succeeded, bool ClientFastOpen, bool ServerFastOpen);
