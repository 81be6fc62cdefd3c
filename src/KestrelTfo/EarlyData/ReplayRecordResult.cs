namespace KestrelTfo.EarlyData;

/// <summary>What a <see cref="ReplayRecord"/> says about a first flight.</summary>
internal enum ReplayRecordResult
{
    /// <summary>Not seen within the window: recorded now.</summary>
    New,

    /// <summary>Seen within the window: a duplicate or a replay.</summary>
    Seen,

    /// <summary>Not seen, and the record has no room for it: treat it as unchecked.</summary>
    Full,
}
