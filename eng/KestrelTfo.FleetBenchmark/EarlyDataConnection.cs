using KestrelTfo.Fleet;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// A new HTTPS connection to the service address that resumes the session this worker's last connection got, with
/// <c>GET /</c> as TLS 1.3 early data (<see cref="FleetTlsSession"/>): the round trip is saved when the instance it
/// reached accepted the early data; declined early data is sent again after the handshake.
/// </summary>
internal sealed class EarlyDataConnection(EmulatedFleet fleet) : ILoadConnection
{
    private readonly FleetTlsSession _session = new(fleet);

    public async Task ConnectOnceAsync(LoadPhase phase)
    {
        try
        {
            var connection = await _session.ConnectAsync(fleet.HttpsServiceEndPoint, CancellationToken.None).ConfigureAwait(false);
            if (connection.Succeeded)
            {
                phase.Succeeded(connection.EarlyDataAccepted);
            }
            else
            {
                phase.Fail($"no answer (resumed: {connection.Resumed})");
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            phase.Fail(e.Message);
        }
    }

    public void Dispose() => _session.Dispose();
}
