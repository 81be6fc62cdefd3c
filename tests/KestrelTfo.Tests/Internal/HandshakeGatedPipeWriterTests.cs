using System.Buffers;
using System.IO.Pipelines;
using KestrelTfo.Internal;

namespace KestrelTfo.Tests.Internal;

public sealed class HandshakeGatedPipeWriterTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private readonly Pipe _pipe = new();
    private readonly TaskCompletionSource<bool> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact(Timeout = Limits.Test)]
    public async Task Writes_go_through_at_once_and_the_close_waits_for_the_handshake()
    {
        var writer = new HandshakeGatedPipeWriter(_pipe.Writer, _handshake.Task);
        await writer.WriteAsync("response"u8.ToArray(), Timeout);
        await writer.CompleteAsync();

        var first = await _pipe.Reader.ReadAsync(Timeout);
        Assert.Equal("response"u8.ToArray(), first.Buffer.ToArray());
        Assert.False(first.IsCompleted);
        _pipe.Reader.AdvanceTo(first.Buffer.End);

        var end = _pipe.Reader.ReadAsync(Timeout);
        Assert.False(end.IsCompleted);
        _handshake.SetResult(true);
        Assert.True((await end).IsCompleted);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_close_after_the_handshake_ended_is_at_once_and_keeps_its_error(bool completed)
    {
        _handshake.SetResult(completed);
        var writer = new HandshakeGatedPipeWriter(_pipe.Writer, _handshake.Task);
        var error = new InvalidOperationException("bad response");

        writer.Complete(error);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await _pipe.Reader.ReadAsync(Timeout));
        Assert.Same(error, thrown);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_close_held_for_a_failed_handshake_still_ends_the_pipe()
    {
        var writer = new HandshakeGatedPipeWriter(_pipe.Writer, _handshake.Task);
        writer.Complete();

        _handshake.SetResult(false);

        Assert.True((await _pipe.Reader.ReadAsync(Timeout)).IsCompleted);
    }
}
