/**
 * Plain keys: string values (get, set, counters) and operations on keys of any
 * type (delete, exists, expire, inspect, rename, scan). `layer` runs on Redis,
 * `layerMemory` on the shared in-memory keyspace; one contract suite covers both.
 */
import { Context, Effect, Layer } from "effect"
import type { InvalidArgument, NotFound, RedisError, TooLarge } from "../Errors.ts"
import { isInternalKey, withKeyGuard } from "./KeyNames.ts"
import { makeMemory } from "./kv/KvMemory.ts"
import { makeRedis } from "./kv/KvRedis.ts"
import type { RedisType } from "./MemoryStore.ts"
import type { RangeOptions, ValuePart } from "./ValueRange.ts"
import type { Encoding } from "./Values.ts"

/** `offset`/`length` of a ranged `get` (GETRANGE). */
export type GetOptions = RangeOptions

/** A value or the part of it read; `offset` says where the next part starts. */
export type GetResult = ValuePart

export type SetCondition = "always" | "ifAbsent" | "ifPresent"

export interface SetOptions {
  readonly encoding?: Encoding
  readonly ttlSeconds?: number
  /** @default "always" */
  readonly condition?: SetCondition
  /** Keep the key's current TTL instead of clearing it. */
  readonly keepTtl?: boolean
}

/**
 * One key of an `mget`. A value not read in this call has `value: null`,
 * `truncated: true` and its `length` (its key is in `remaining`); a value too big
 * for one result comes as its first part with `truncated`, `length` and the
 * `offset` for `get` to read on.
 */
export interface MgetItem {
  readonly key: string
  readonly found: boolean
  readonly value: string | null
  readonly encoding: Encoding
  /** Total size in bytes, when `truncated`. */
  readonly length?: number
  readonly truncated?: boolean
  /** Only on a first part: where `get` goes on. */
  readonly offset?: number
}

export interface MgetResult {
  /** One entry per distinct key, in the order first given. */
  readonly values: ReadonlyArray<MgetItem>
  /** Some values were not read (see `remaining`) or came as a first part. */
  readonly truncated: boolean
  /** Keys whose values did not fit this call: pass them to `mget` again. */
  readonly remaining: ReadonlyArray<string>
}

export interface MsetEntry {
  readonly key: string
  readonly value: string
  readonly encoding?: Encoding
}

export interface ExistsResult {
  /** How many of the distinct keys exist. */
  readonly count: number
  readonly existing: ReadonlyArray<string>
}

/** Exactly one of: a new TTL, or `persist: true` to remove the TTL. */
export interface ExpireOptions {
  readonly ttlSeconds?: number
  readonly persist?: boolean
}

export interface KeyInfo {
  readonly exists: boolean
  /** `none` when missing; module types (e.g. `ReJSON-RL`) come through as Redis names them. */
  readonly type: string
  /** Remaining time to live in ms; null when the key has no TTL (or is missing). */
  readonly ttlMs: number | null
  /** strlen / hlen / llen / scard / zcard / xlen; null when unknown for the type. */
  readonly size: number | null
}

export interface ScanOptions {
  /** Opaque cursor from a previous page; "0" or absent starts over. */
  readonly cursor?: string
  /** Redis glob the keys must match. */
  readonly match?: string
  readonly type?: RedisType
  /** Work hint: keys Redis examines per SCAN round trip. */
  readonly count?: number
  /** Keys wanted in this page (clamped to maxItems). @default 100 */
  readonly limit?: number
}

export interface ScanPage {
  /** At most `limit` keys (and never more than maxItems). */
  readonly keys: ReadonlyArray<string>
  /** Pass back to continue; "0" when done. */
  readonly cursor: string
  readonly done: boolean
  /** More keys may follow (the same as `!done`). */
  readonly truncated: boolean
}

/** Failures of the key operations. */
export type KvError = RedisError | InvalidArgument | NotFound | TooLarge

export interface KvShape {
  /** A string value (or a byte range of it), capped to the output limit. */
  readonly get: (key: string, options?: GetOptions) => Effect.Effect<GetResult, KvError>
  /** Write a string value; false when the condition did not hold. */
  readonly set: (key: string, value: string, options?: SetOptions) => Effect.Effect<boolean, KvError>
  /**
   * Several string values at once, within the output cap (sizes are checked before
   * any value is read); a key holding another type reads as not found (as MGET).
   */
  readonly mget: (keys: ReadonlyArray<string>) => Effect.Effect<MgetResult, KvError>
  /** Write several values at once (atomically), optionally all with one TTL. */
  readonly mset: (entries: ReadonlyArray<MsetEntry>, ttlSeconds?: number) => Effect.Effect<boolean, KvError>
  /** Delete keys of any type; the number deleted. */
  readonly del: (keys: ReadonlyArray<string>) => Effect.Effect<number, KvError>
  /** Which of the keys exist. */
  readonly exists: (keys: ReadonlyArray<string>) => Effect.Effect<ExistsResult, KvError>
  /** Set or remove a TTL; false when the key is missing (or, for persist, had no TTL). */
  readonly expire: (key: string, options: ExpireOptions) => Effect.Effect<boolean, KvError>
  /** Type, TTL and size of a key. */
  readonly keyInfo: (key: string) => Effect.Effect<KeyInfo, KvError>
  /** Rename a key (any type, TTL kept); NotFound when the source is missing. */
  readonly rename: (key: string, newKey: string, onlyIfAbsent?: boolean) => Effect.Effect<boolean, KvError>
  /** Add `by` to an integer value (missing counts as 0); the new value. */
  readonly incr: (key: string, by?: number) => Effect.Effect<number, KvError>
  /** One bounded page of keys. */
  readonly scan: (options?: ScanOptions) => Effect.Effect<ScanPage, KvError>
}

const one = (key: string) => [key]
const all = (keys: ReadonlyArray<string>) => keys

/**
 * Every key a call names is checked (well-formed, REDIS_MCP_MAX_KEY_BYTES, not
 * reserved: see KeyNames.ts), and `scan` never lists a reserved key.
 */
const guarded = <E, R>(make: Effect.Effect<KvShape, E, R>) =>
  Effect.map(
    withKeyGuard<KvShape>({
      get: one,
      set: one,
      mget: all,
      mset: (entries) => entries.map((e) => e.key),
      del: all,
      exists: all,
      expire: one,
      keyInfo: one,
      rename: (key, newKey) => [key, newKey],
      incr: one
    })(make),
    (kv): KvShape => ({
      ...kv,
      scan: (options) =>
        Effect.map(kv.scan(options), (page) => ({ ...page, keys: page.keys.filter((k) => !isInternalKey(k)) }))
    })
  )

export class Kv extends Context.Service<Kv, KvShape>()("effect-redis-mcp/Kv") {
  /** On Redis (needs RedisClient and ServerConfig). */
  static readonly layer = Layer.effect(Kv, guarded(makeRedis))

  /** On the in-memory keyspace (needs MemoryStore and ServerConfig). */
  static readonly layerMemory = Layer.effect(Kv, guarded(makeMemory))
}
