/// Dense index of a user: one index per user, the same whether it follows or is followed.
public typealias UserIndex = Int32

/// Dense index of a post.
public typealias PostIndex = Int32

/// Seconds since the Unix epoch, UTC.
public typealias Timestamp = Int64
