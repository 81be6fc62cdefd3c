namespace KestrelTfo.OpenSsl;

/// <summary>An OpenSSL call failed; the message names the call and carries OpenSSL's own reason strings.</summary>
internal sealed class OpenSslException : Exception
{
    public OpenSslException()
    {
    }

    public OpenSslException(string message)
        : base(message)
    {
    }

    public OpenSslException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
