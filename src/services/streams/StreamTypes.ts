/**
 * What the Streams service takes and returns. Inputs are plain objects (the
 * stream tools pass theirs straight through); every id, count and value is
 * checked by `StreamArgs` before either layer acts.
 */
import type { Effect } from "effect"
import type { InvalidArgument, NotFound, RedisError, TooLarge, WrongType } from "../../Errors.ts"
import type { Encoding } from "../Values.ts"

/** One stream entry. Values that are not valid UTF-8 come back base64 and are named in `base64Fields`. */
export interface StreamEntry {
  readonly id: string
  readonly fields: Record<string, string>
  readonly base64Fields?: ReadonlyArray<string>
  /** Only in pending-history reads: the entry was deleted after delivery (fields is empty). */
  readonly deleted?: boolean
  /**
   * The entry alone is over the output cap: its fields come in order while they
   * fit, the first that does not with its value cut, the rest left out.
   */
  readonly truncated?: boolean
}

export interface XAddInput {
  readonly key: string
  readonly fields: Readonly<Record<string, string>>
  readonly encoding?: Encoding
  readonly id?: string
  readonly maxLen?: number
  readonly approximate?: boolean
}
export interface XAddResult {
  readonly id: string
}

export interface XRangeInput {
  readonly key: string
  readonly start?: string
  readonly end?: string
  readonly count?: number
  readonly reverse?: boolean
}
export interface XRangeResult {
  readonly entries: ReadonlyArray<StreamEntry>
  readonly truncated: boolean
  readonly cursor?: string
}

export interface XReadInput {
  readonly streams: ReadonlyArray<{ readonly key: string; readonly id: string }>
  readonly count?: number
  readonly blockMs?: number
}
export interface XReadStream {
  readonly key: string
  readonly entries: ReadonlyArray<StreamEntry>
  /** The id to pass next time for this stream (last entry read, or the id it was read after). */
  readonly lastId: string
  readonly truncated: boolean
}
export interface XReadResult {
  readonly streams: ReadonlyArray<XReadStream>
}

export interface XTrimInput {
  readonly key: string
  readonly maxLen?: number
  readonly minId?: string
  readonly approximate?: boolean
}

export interface XGroupCreateInput {
  readonly key: string
  readonly group: string
  readonly startId?: string
  readonly mkstream?: boolean
}

export interface XReadGroupInput {
  readonly key: string
  readonly group: string
  readonly consumer: string
  readonly id?: string
  readonly count?: number
  readonly blockMs?: number
  readonly noAck?: boolean
}
export interface XReadGroupResult {
  readonly entries: ReadonlyArray<StreamEntry>
  /** More entries are waiting: new ones (read again with ">"), or pending ones (read again with id = cursor). */
  readonly truncated: boolean
  /** Only when re-reading pending entries and truncated: the id to pass next. */
  readonly cursor?: string
}

export interface XPendingInput {
  readonly key: string
  readonly group: string
  readonly consumer?: string
  readonly minIdleMs?: number
  readonly start?: string
  readonly end?: string
  readonly count?: number
}
export interface PendingEntry {
  readonly id: string
  readonly consumer: string
  readonly idleMs: number
  readonly deliveries: number
}
export interface XPendingResult {
  readonly pending: number
  readonly minId: string | null
  readonly maxId: string | null
  readonly consumers: ReadonlyArray<{ readonly consumer: string; readonly pending: number }>
  readonly entries: ReadonlyArray<PendingEntry>
  readonly truncated: boolean
  readonly cursor?: string
}

export interface XAutoClaimInput {
  readonly key: string
  readonly group: string
  readonly consumer: string
  readonly minIdleMs: number
  readonly start?: string
  readonly count?: number
}
export interface XAutoClaimResult {
  readonly entries: ReadonlyArray<StreamEntry>
  readonly deletedIds: ReadonlyArray<string>
  readonly cursor: string
  readonly done: boolean
  /**
   * The first entry alone was over the output cap and comes cut (see its own
   * `truncated`). Entries are only claimed when they fit the result.
   */
  readonly truncated: boolean
}

export interface XInfoInput {
  readonly key: string
  readonly group?: string
}
export interface StreamInfo {
  readonly length: number
  readonly lastGeneratedId: string
  readonly entriesAdded: number
  readonly groups: number
  readonly firstEntry: StreamEntry | null
  readonly lastEntry: StreamEntry | null
}
export interface GroupInfo {
  readonly name: string
  readonly consumers: number
  readonly pending: number
  readonly lastDeliveredId: string
}
export interface ConsumerInfo {
  readonly name: string
  readonly pending: number
  readonly idleMs: number
}
export interface XInfoResult {
  readonly found: boolean
  readonly stream?: StreamInfo
  readonly groups?: ReadonlyArray<GroupInfo>
  readonly consumers?: ReadonlyArray<ConsumerInfo>
}

export type StreamError = RedisError | InvalidArgument | NotFound | TooLarge | WrongType

export interface StreamsShape {
  /** Append an entry; optionally trim to about `maxLen` entries. */
  readonly xadd: (input: XAddInput) => Effect.Effect<XAddResult, StreamError>
  /** Entries between two ids, oldest first (or newest first with `reverse`). */
  readonly xrange: (input: XRangeInput) => Effect.Effect<XRangeResult, StreamError>
  /** Entries after an id in one or more streams, optionally waiting (bounded) for new ones. */
  readonly xread: (input: XReadInput) => Effect.Effect<XReadResult, StreamError>
  readonly xlen: (key: string) => Effect.Effect<{ readonly length: number }, StreamError>
  readonly xdel: (key: string, ids: ReadonlyArray<string>) => Effect.Effect<{ readonly deleted: number }, StreamError>
  readonly xtrim: (input: XTrimInput) => Effect.Effect<{ readonly deleted: number }, StreamError>
  /** Create a consumer group; `created: false` when it already exists. */
  readonly xgroupCreate: (input: XGroupCreateInput) => Effect.Effect<{ readonly created: boolean }, StreamError>
  readonly xreadgroup: (input: XReadGroupInput) => Effect.Effect<XReadGroupResult, StreamError>
  readonly xack: (
    key: string,
    group: string,
    ids: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly acked: number }, StreamError>
  readonly xpending: (input: XPendingInput) => Effect.Effect<XPendingResult, StreamError>
  readonly xautoclaim: (input: XAutoClaimInput) => Effect.Effect<XAutoClaimResult, StreamError>
  readonly xinfo: (input: XInfoInput) => Effect.Effect<XInfoResult, StreamError>
}
