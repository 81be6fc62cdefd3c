namespace KestrelTfo.NetEmu;

/// <summary>One end of an <see cref="EmulatedLink"/>.</summary>
public enum LinkSide
{
    /// <summary>The end with <see cref="EmulatedLink.ServerAddress"/>, where servers listen.</summary>
    Server,

    /// <summary>The end with <see cref="EmulatedLink.ClientAddress"/>, where clients connect from.</summary>
    Client,
}
