import TwinCore

/// An optional capability of a ``BankStorage``: it pushes the bank's committed changes, so a watcher wakes up when
/// something was written instead of polling ``StorageReader/lastSequence()`` on a timer.
///
/// Implementations: ``MemoryStorage`` (in-process: every writer shares the object) and `PostgresStorage` (across
/// processes, through PostgreSQL's `LISTEN`/`NOTIFY`). `SQLiteStorage` does not conform: another process's write to a
/// SQLite file cannot be pushed to this one, and a feed that saw only this process's writes would break the promise
/// below; a watcher on SQLite keeps polling the cheap last-sequence read.
///
/// What ``changes()`` promises:
/// - It starts with the bank's current last sequence number, then yields the last sequence number after committed
///   writes that append, retract or erase, by **any** process on the bank.
/// - **At least once**: after every such committed write, the stream yields a value at least as high as that write's
///   last sequence (sooner or later: after a lost connection, once it is back). It may coalesce several writes into
///   one value, and may yield a value more than once (after a reconnection, the current one again).
/// - **Never ahead of the bank**: every value is a sequence number that is committed (a rolled-back write yields
///   nothing).
/// - **Latest wins**: a subscriber that falls behind gets the latest value, not a backlog (the stream buffers one).
/// - The stream ends when the storage is closed or the consumer stops iterating (its task is cancelled); each call is
///   an independent subscription.
public protocol StorageChangeFeed: BankStorage {
    /// The bank's last sequence number now and after each committed change by any process (see the protocol).
    func changes() -> AsyncThrowingStream<Int64, any Error>
}

extension Bank {
    /// The bank's change feed, when its storage pushes changes (``StorageChangeFeed``); nil when it does not (SQLite),
    /// where a watcher polls ``lastSequence()``.
    public var changeFeed: (any StorageChangeFeed)? { storage as? any StorageChangeFeed }
}
