/**
 * The in-memory keyspace shared by every in-memory data service (keys, hashes,
 * lists, sets, sorted sets, streams), so that types and TTLs behave as in one
 * Redis database: a hash at `k` makes `get k` a WrongType, `del` removes any
 * type, `scan` sees every key. Expiry follows Effect's Clock, so tests drive it
 * with TestClock.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { quote, WrongType } from "../Errors.ts"

export type RedisType = "string" | "hash" | "list" | "set" | "zset" | "stream"

/**
 * Hash fields and set/zset members are latin1 strings of their bytes (`memberKey`
 * in Paging.ts): binary-safe, and ordered as Redis orders bytes. Stream data is
 * owned by the Streams memory layer; the store only keeps it.
 */
export interface EntryValues {
  readonly string: { value: Buffer }
  readonly hash: { value: Map<string, Buffer> }
  readonly list: { value: Array<Buffer> }
  readonly set: { value: Set<string> }
  readonly zset: { value: Map<string, number> }
  readonly stream: { value: unknown }
}

export type Entry = { [T in RedisType]: { readonly type: T; expiresAt: number | null } & EntryValues[T] }[RedisType]
export type EntryOf<T extends RedisType> = Extract<Entry, { readonly type: T }>

/** Which tool works on each type, for WrongType messages. */
export const toolsFor: Record<RedisType, string> = {
  string: "get/set",
  hash: "hget/hgetall",
  list: "lrange",
  set: "smembers",
  zset: "zrange",
  stream: "xrange"
}

export const wrongType = (key: string, actual: RedisType, wanted: RedisType) =>
  new WrongType({
    message: `Key ${quote(key)} holds a ${actual}, not a ${wanted}. Use ${toolsFor[actual]} for it, or another key.`,
    key,
    actualType: actual
  })

export interface MemoryStoreShape {
  /** The live entry at `key` (expired entries are removed first). */
  readonly get: (key: string) => Effect.Effect<Entry | undefined>
  /** The live entry at `key` if it has type `type`; WrongType if another type. */
  readonly getTyped: <T extends RedisType>(key: string, type: T) => Effect.Effect<EntryOf<T> | undefined, WrongType>
  /** Store an entry (replacing any). */
  readonly put: (key: string, entry: Entry) => Effect.Effect<void>
  /** Remove a key; true if it existed. */
  readonly remove: (key: string) => Effect.Effect<boolean>
  /** Every live key, in insertion order. */
  readonly keys: Effect.Effect<ReadonlyArray<string>>
  /** Current time in ms (the Clock the store expires by). */
  readonly now: Effect.Effect<number>
  /** Drop a collection that became empty, as Redis does. */
  readonly dropIfEmpty: (key: string) => Effect.Effect<void>
}

const sizeOf = (e: Entry): number => {
  switch (e.type) {
    case "string":
      return 1
    case "hash":
    case "zset":
      return e.value.size
    case "set":
      return e.value.size
    case "list":
      return e.value.length
    case "stream":
      return 1
  }
}

export class MemoryStore extends Context.Service<MemoryStore, MemoryStoreShape>()("effect-redis-mcp/MemoryStore") {
  static readonly make = Effect.sync(() => {
    const data = new Map<string, Entry>()
    const live = (key: string, now: number): Entry | undefined => {
      const e = data.get(key)
      if (e === undefined) return undefined
      if (e.expiresAt !== null && e.expiresAt <= now) {
        data.delete(key)
        return undefined
      }
      return e
    }
    const get = (key: string) => Effect.map(Clock.currentTimeMillis, (now) => live(key, now))
    return MemoryStore.of({
      get,
      getTyped: <T extends RedisType>(key: string, type: T) =>
        Effect.flatMap(get(key), (e) =>
          e === undefined
            ? Effect.succeed(undefined)
            : e.type === type
              ? Effect.succeed(e as EntryOf<T>)
              : Effect.fail(wrongType(key, e.type, type))
        ),
      put: (key, entry) => Effect.sync(() => void data.set(key, entry)),
      remove: (key) => Effect.map(get(key), (e) => (e === undefined ? false : data.delete(key))),
      keys: Effect.map(Clock.currentTimeMillis, (now) => [...data.keys()].filter((k) => live(k, now) !== undefined)),
      now: Clock.currentTimeMillis,
      dropIfEmpty: (key) =>
        Effect.sync(() => {
          const e = data.get(key)
          if (e !== undefined && e.type !== "string" && e.type !== "stream" && sizeOf(e) === 0) data.delete(key)
        })
    })
  })

  /** One keyspace per layer build (one per server process). */
  static readonly layer = Layer.effect(MemoryStore, MemoryStore.make)
}
