namespace KestrelTfo.Client.Internal;

/// <summary>
/// The service key of a named client's <see cref="FastOpenConnector"/>: a type of our own, so no other keyed
/// registration can collide with the client's name.
/// </summary>
internal sealed record FastOpenConnectorKey(string Name);
