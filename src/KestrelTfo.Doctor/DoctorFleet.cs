namespace KestrelTfo.Doctor;

/// <summary>
/// What <c>--check</c> saw over its connections after the cookie connection: how many there were, and in how many the
/// server took the SYN's data.
/// </summary>
/// <param name="Kind">What rode in the SYNs: <c>tls_client_hello</c> or <c>http</c>, the names the server's metrics use.</param>
/// <param name="Connections">Connections after the cookie connection.</param>
/// <param name="Accepted">Of those, the ones whose SYN data the server acknowledged.</param>
internal sealed record DoctorFleet(string Kind, int Connections, int Accepted)
{
    /// <summary><c>all</c>, <c>some</c> or <c>none</c>.</summary>
    public string Share => Accepted == Connections ? "all" : Accepted == 0 ? "none" : "some";

    /// <summary>What the share means for a server, or a fleet behind one address.</summary>
    public string Meaning => Share switch
    {
        "all" => "every instance behind this address accepts this client's cookie",
        "some" => "the instances behind this address do not all accept one cookie: they do not share a key, or they see different server addresses (behind DNAT each sees its own)",
        _ => "nothing behind this address accepted the cookie it handed out",
    };
}
