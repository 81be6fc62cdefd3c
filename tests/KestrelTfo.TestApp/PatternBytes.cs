namespace KestrelTfo.TestApp;

/// <summary>
/// A body whose every byte says where it is (a prime-length cycle, so no record or buffer size lines up with it): a
/// byte lost, doubled or moved anywhere in a long transfer changes what arrives.
/// </summary>
public static class PatternBytes
{
    public static byte[] Of(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i % 251);
        }

        return bytes;
    }
}
