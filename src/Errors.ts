/**
 * Typed errors shared by every service. Each error carries a readable `message`
 * (what happened, then what to do) and `retryable`; the MCP edge turns them into
 * `isError` results and nothing else maps them.
 */
import { Effect, Schema } from "effect"

/**
 * The Effect form of a synchronous check: succeeds when it found no problem, else fails with the
 * problem (checks that say what is wrong, or undefined, cost no fiber steps on a hot call).
 */
export const orVoid = <E>(problem: E | undefined): Effect.Effect<void, E> =>
  problem === undefined ? Effect.void : Effect.fail(problem)

/** Redis is not reachable (never connected, connection lost, or commands refused while reconnecting). */
export class RedisUnavailable extends Schema.TaggedError<RedisUnavailable>()("RedisUnavailable", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return true
  }
}

/** A Redis command did not answer within the configured timeout. */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  message: Schema.String,
  timeoutMs: Schema.Finite
}) {
  get retryable(): boolean {
    return true
  }
}

/** The key holds another Redis type than the command needs. */
export class WrongType extends Schema.TaggedError<WrongType>()("WrongType", {
  message: Schema.String,
  key: Schema.optionalKey(Schema.String),
  actualType: Schema.optionalKey(Schema.String)
}) {
  get retryable(): boolean {
    return false
  }
}

/**
 * Which of the server's own rules refused a call, when it was one of these: `key_pattern` (a key,
 * channel, queue or namespace outside the session role's patterns), `deny_list` (a raw command on the
 * command deny list). The audit log reports it as the refusal's reason; other refusals carry none.
 */
export const PermissionRule = Schema.Literals(["key_pattern", "deny_list"])
export type PermissionRule = typeof PermissionRule.Type

/**
 * The Redis ACL user may not run the command or touch the key (NOPERM, NOAUTH, WRONGPASS), or the
 * server refused it before sending anything: the session's role does not allow the key, channel,
 * queue or namespace; the command deny list; the key prefix; the server's reserved names.
 */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", {
  message: Schema.String,
  reason: Schema.optionalKey(PermissionRule)
}) {
  get retryable(): boolean {
    return false
  }
}

/** Redis reached `maxmemory` and refused a write (OOM). */
export class OutOfMemory extends Schema.TaggedError<OutOfMemory>()("OutOfMemory", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/**
 * Redis is temporarily unable to serve the command: LOADING, BUSY (a script runs),
 * MASTERDOWN, TRYAGAIN, CLUSTERDOWN, or READONLY (a replica answered after a failover).
 */
export class RedisBusy extends Schema.TaggedError<RedisBusy>()("RedisBusy", {
  message: Schema.String,
  reason: Schema.Literals(["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"])
}) {
  get retryable(): boolean {
    return true
  }
}

/** Any other error reply from Redis. */
export class RedisCommandError extends Schema.TaggedError<RedisCommandError>()("RedisCommandError", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** Every error the Redis connection layer can fail with. */
export type RedisError =
  | RedisUnavailable
  | Timeout
  | WrongType
  | PermissionDenied
  | OutOfMemory
  | RedisBusy
  | RedisCommandError

/** Arguments that make no sense; raised before Redis is touched. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** The thing named does not exist (where absence is an error rather than `found: false`). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** A value is larger than the configured maximum. */
export class TooLarge extends Schema.TaggedError<TooLarge>()("TooLarge", {
  message: Schema.String,
  size: Schema.Finite,
  limit: Schema.Finite
}) {
  get retryable(): boolean {
    return false
  }
}

/** A write was asked of a server started with `--read-only`. */
export class ReadOnlyMode extends Schema.TaggedError<ReadOnlyMode>()("ReadOnlyMode", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/**
 * A per-principal limit is reached (concurrent calls, open subscriptions). Retryable: the
 * principal's own calls finishing, or its subscriptions closing, frees room.
 */
export class LimitExceeded extends Schema.TaggedError<LimitExceeded>()("LimitExceeded", {
  message: Schema.String,
  limit: Schema.Literals(["calls", "subscriptions"]),
  max: Schema.Finite
}) {
  get retryable(): boolean {
    return true
  }
}

/** Compare-and-set failed: the document is at another version. */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  message: Schema.String,
  currentVersion: Schema.Finite
}) {
  get retryable(): boolean {
    return false
  }
}

/** A task lease token is stale or belongs to another claim. */
export class LeaseExpired extends Schema.TaggedError<LeaseExpired>()("LeaseExpired", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** A task cannot run because a task it depends on failed or was cancelled. */
export class DependencyFailed extends Schema.TaggedError<DependencyFailed>()("DependencyFailed", {
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** Errors raised by the domain services on top of Redis errors. */
export type DomainError =
  | InvalidArgument
  | NotFound
  | TooLarge
  | ReadOnlyMode
  | LimitExceeded
  | VersionConflict
  | LeaseExpired
  | DependencyFailed

/** Every typed error a tool can fail with. */
export type AppError = RedisError | DomainError

/** True for errors worth retrying (the operation may succeed when tried again). */
export const isRetryable = (error: { readonly retryable?: boolean }): boolean => error.retryable === true

/** Characters of a name (key, field, channel…) an error message quotes at most. */
export const QUOTE_MAX_CHARS = 200

/**
 * A name as error messages quote it: JSON-quoted, cut after 200 characters with
 * its full size in bytes, so a huge key never makes a huge message.
 */
export const quote = (name: string): string =>
  name.length <= QUOTE_MAX_CHARS
    ? JSON.stringify(name)
    : `${JSON.stringify(name.slice(0, QUOTE_MAX_CHARS))}… (${Buffer.byteLength(name, "utf8")} bytes)`

/** The same cut, without the quotes (for messages that show a name bare). */
export const clip = (name: string): string =>
  name.length <= QUOTE_MAX_CHARS
    ? name
    : `${name.slice(0, QUOTE_MAX_CHARS)}… (${Buffer.byteLength(name, "utf8")} bytes)`
