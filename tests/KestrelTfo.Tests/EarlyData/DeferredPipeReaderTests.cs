using System.Buffers;
using System.IO.Pipelines;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Tests.EarlyData;

public sealed class DeferredPipeReaderTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private readonly Pipe _pipe = new();
    private readonly TaskCompletionSource<bool> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact(Timeout = Limits.Test)]
    public async Task Reads_wait_for_the_handshake_then_see_the_early_data()
    {
        var reader = new DeferredPipeReader(_pipe.Reader, _handshake.Task);
        await _pipe.Writer.WriteAsync("early"u8.ToArray(), Timeout);

        var read = reader.ReadAsync(Timeout);
        Assert.False(read.IsCompleted);
        Assert.False(reader.TryRead(out _));

        _handshake.SetResult(true);
        var result = await read;

        Assert.Equal("early"u8.ToArray(), result.Buffer.ToArray());
        reader.AdvanceTo(result.Buffer.End);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_handshake_that_never_completes_ends_the_input_without_its_data()
    {
        var reader = new DeferredPipeReader(_pipe.Reader, _handshake.Task);
        await _pipe.Writer.WriteAsync("POST /transfer"u8.ToArray(), Timeout);

        _handshake.SetResult(false);
        var result = await reader.ReadAsync(Timeout);

        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
        Assert.False(reader.TryRead(out _));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task CancelPendingRead_ends_a_held_read_as_canceled()
    {
        var reader = new DeferredPipeReader(_pipe.Reader, _handshake.Task);
        var read = reader.ReadAsync(Timeout);

        reader.CancelPendingRead();
        var result = await read;

        Assert.True(result.IsCanceled);
        Assert.False(result.IsCompleted);

        // The next read is held again, and released by the handshake.
        var next = reader.ReadAsync(Timeout);
        Assert.False(next.IsCompleted);
        await _pipe.Writer.WriteAsync("x"u8.ToArray(), Timeout);
        _handshake.SetResult(true);
        var released = await next;
        Assert.False(released.IsCanceled, "the one cancellation was delivered twice");
        Assert.Equal("x"u8.ToArray(), released.Buffer.ToArray());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Advancing_past_the_empty_end_of_a_failed_handshake_never_reaches_the_pipe()
    {
        var reader = new DeferredPipeReader(_pipe.Reader, _handshake.Task);
        await _pipe.Writer.WriteAsync("POST /transfer"u8.ToArray(), Timeout);
        _handshake.SetResult(false);

        // As Kestrel's HTTP/1 parser does with every result: advance to where it read. The inner pipe would throw on
        // positions of a buffer it never gave out (InvalidCastException: byte[] to BufferSegment).
        var result = await reader.ReadAsync(Timeout);
        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        var again = await reader.ReadAsync(Timeout);
        reader.AdvanceTo(again.Buffer.End);

        Assert.True(again.IsCompleted);
        Assert.True(again.Buffer.IsEmpty);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Advancing_past_a_cancelled_held_read_never_reaches_the_pipe_and_the_next_read_sees_the_data()
    {
        var reader = new DeferredPipeReader(_pipe.Reader, _handshake.Task);
        var read = reader.ReadAsync(Timeout);
        reader.CancelPendingRead();

        var canceled = await read;
        reader.AdvanceTo(canceled.Buffer.Start, canceled.Buffer.End);

        await _pipe.Writer.WriteAsync("early"u8.ToArray(), Timeout);
        _handshake.SetResult(true);
        var released = await reader.ReadAsync(Timeout);
        Assert.Equal("early"u8.ToArray(), released.Buffer.ToArray());

        // Real results go to the pipe: consuming them lets the next read wait for new data.
        reader.AdvanceTo(released.Buffer.End);
        await _pipe.Writer.WriteAsync("more"u8.ToArray(), Timeout);
        var next = await reader.ReadAsync(Timeout);
        Assert.Equal("more"u8.ToArray(), next.Buffer.ToArray());
        reader.AdvanceTo(next.Buffer.End);
    }
}
