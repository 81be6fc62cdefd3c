namespace KestrelTfo.EarlyData;

/// <summary>What a <see cref="ReplayRecord"/> that is full does with a new first flight.</summary>
internal enum ReplayRecordFull
{
    /// <summary>Forgets the oldest entry to make room.</summary>
    ForgetOldest,

    /// <summary>Keeps every entry until its window passes, and answers <see cref="ReplayRecordResult.Full"/>.</summary>
    Refuse,
}
