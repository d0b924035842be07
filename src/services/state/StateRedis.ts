/**
 * The State service on Redis. Every write is one Lua script that checks the
 * version, stamps Redis TIME, keeps the history and publishes the change; a merge
 * patch is computed here and written by compare-and-set on the version, retried
 * with a Schedule while other writers win the race, so no update is ever lost.
 */
import { Data, Duration, Effect, Schedule, Semaphore, type Stream } from "effect"
import { ServerConfig } from "../../layers/Config.ts"
import { RedisClient } from "../../layers/RedisClient.ts"
import * as ChangeChannel from "../ChangeChannel.ts"
import { checkText } from "../KeyNames.ts"
import * as Lua from "./Lua.ts"
import { type Json, mergePatch } from "./MergePatch.ts"
import {
  checkDoc,
  checkDocTtl,
  checkLock,
  checkName,
  checkPatch,
  conflict,
  contention,
  encodeValue,
  fitBudget,
  type HistoryEntry,
  historyCursor,
  type ListItem,
  listCursor,
  notHolder,
  outputBudget,
  pageSize,
  type StateEvent,
  type StateShape,
  stateLimits
} from "./Model.ts"

/** A compare-and-set lost to another writer; retried inside `patch`, never seen outside. */
class CasMiss extends Data.TaggedError("CasMiss")<{ readonly current: number }> {}

const docKey = (ns: string, key: string) => `state:{${ns}}:doc:${key}`
const histKey = (ns: string, key: string) => `state:{${ns}}:hist:${key}`
const indexKey = (ns: string) => `state:{${ns}}:index`
const expiryKey = (ns: string) => `state:{${ns}}:expiry`
const lockKey = (name: string) => `state:lock:{${name}}`
const fenceKey = (name: string) => `state:lock:{${name}}:fence`

/** Patch retries: short, jittered, growing delays; bounded so a call always answers. */
const casRetry = Schedule.min([
  Schedule.exponential(Duration.millis(2), 1.5),
  Schedule.spaced(Duration.millis(50))
]).pipe(
  Schedule.jittered,
  Schedule.setInputType<{ readonly _tag: string }>(),
  Schedule.while(({ input }) => input._tag === "CasMiss"),
  Schedule.upTo({ times: 200, duration: Duration.seconds(10) })
)

/** Patches of one document from this process queue up instead of racing (64 stripes by hash). */
const STRIPES = 64
const stripeOf = (ns: string, key: string) => {
  let h = 0
  for (const c of `${ns}\u0000${key}`) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0
  return (h >>> 0) % STRIPES
}

/** Index entries one list call may examine (stale ones are dropped on the way). */
const LIST_SCAN_BUDGET = 2000

const asArray = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])
const num = (u: unknown) => Number(u)

export const make = Effect.gen(function* () {
  const redis = yield* RedisClient
  const settings = yield* ServerConfig
  const limits = stateLimits(settings)
  const channel = `${redis.keyPrefix}state:changes`
  const write = redis.script("state_write", Lua.WRITE)
  const read = redis.script("state_get", Lua.GET)
  const del = redis.script("state_delete", Lua.DELETE)
  const listScript = redis.script("state_list", Lua.LIST)
  const historyScript = redis.script("state_history", Lua.HISTORY)
  const lockAcquire = redis.script("state_lock_acquire", Lua.LOCK_ACQUIRE)
  const lockRelease = redis.script("state_lock_release", Lua.LOCK_RELEASE)
  const message = (ns: string, key: string) => JSON.stringify([ns, key])
  /** What scripts put before a document's key to name its hash (they build keys, so the client prefix too). */
  const docPrefix = (ns: string) => `${redis.keyPrefix}state:{${ns}}:doc:`
  const stripes = Array.from({ length: STRIPES }, () => Semaphore.makeUnsafe(1))

  const get: StateShape["get"] = Effect.fn("State.get")(function* (ns, key) {
    yield* checkDoc(ns, key)
    const r = yield* read([docKey(ns, key)], [], { idempotent: true })
    if (r === null || r === undefined) {
      return { found: false, value: null, version: 0, updatedAt: null, expiresAt: null }
    }
    const [json, version, updatedAt, expiresAt] = asArray(r)
    return {
      found: true,
      value: JSON.parse(String(json)) as Json,
      version: num(version),
      updatedAt: num(updatedAt),
      expiresAt: num(expiresAt) < 0 ? null : num(expiresAt)
    }
  })

  /** One compare-and-set write; `expected` undefined writes whatever the version. */
  const writeJson = (
    ns: string,
    key: string,
    json: string,
    expected: number | undefined,
    ttl: "persist" | "keep" | number
  ) =>
    Effect.map(
      write(
        [docKey(ns, key), histKey(ns, key), indexKey(ns), expiryKey(ns)],
        [
          key,
          json,
          expected === undefined ? "" : String(expected),
          typeof ttl === "number" ? String(ttl) : ttl,
          String(limits.history),
          channel,
          message(ns, key),
          docPrefix(ns)
        ]
      ),
      (r) => {
        const [ok, version, updatedAt, expiresAt] = asArray(r).map(num)
        return ok === 1
          ? {
              ok: true as const,
              version: version!,
              updatedAt: updatedAt!,
              expiresAt: expiresAt! < 0 ? null : expiresAt!
            }
          : { ok: false as const, current: version! }
      }
    )

  const ttlMs = (ttlSeconds: number | undefined, otherwise: "persist" | "keep") =>
    ttlSeconds === undefined ? otherwise : ttlSeconds * 1000

  const set: StateShape["set"] = Effect.fn("State.set")(function* (ns, key, value, options = {}) {
    yield* checkDoc(ns, key)
    yield* checkDocTtl(options.ttlSeconds)
    const json = yield* encodeValue("The value", value, limits)
    const r = yield* writeJson(ns, key, json, options.expectedVersion, ttlMs(options.ttlSeconds, "persist"))
    if (!r.ok) return yield* conflict(ns, key, options.expectedVersion ?? 0, r.current)
    return { version: r.version, updatedAt: r.updatedAt, expiresAt: r.expiresAt }
  })

  /**
   * One read-merge-write of a patch. Made once, not per call: a generator function made
   * per call gets a hidden class of its own in old space, which keeps everything the call
   * touched alive through every scavenge until the next full collection.
   */
  const patchOnce = Effect.fnUntraced(function* (
    ns: string,
    key: string,
    patchValue: Json,
    expected: number | undefined,
    ttlSeconds: number | undefined
  ) {
    const doc = yield* get(ns, key)
    if (expected !== undefined && doc.version !== expected) return yield* conflict(ns, key, expected, doc.version)
    const value = mergePatch(doc.found ? doc.value : undefined, patchValue)
    const json = yield* encodeValue("The patched value", value, limits)
    const r = yield* writeJson(ns, key, json, doc.version, ttlMs(ttlSeconds, "keep"))
    if (!r.ok) {
      return yield* expected === undefined
        ? new CasMiss({ current: r.current })
        : conflict(ns, key, expected, r.current)
    }
    return { version: r.version, updatedAt: r.updatedAt, expiresAt: r.expiresAt, value }
  })

  const patch: StateShape["patch"] = Effect.fn("State.patch")(function* (ns, key, patchValue, options = {}) {
    yield* checkDoc(ns, key)
    yield* checkDocTtl(options.ttlSeconds)
    yield* checkPatch(patchValue)
    yield* encodeValue("The patch", patchValue, limits)
    // Only writers elsewhere (other servers, or state_set here) can still win the race: retry on a lost CAS.
    return yield* patchOnce(ns, key, patchValue, options.expectedVersion, options.ttlSeconds).pipe(
      Effect.retry(casRetry),
      Effect.catchTag("CasMiss", (e) => Effect.fail(contention(ns, key, e.current))),
      Semaphore.withPermit(stripes[stripeOf(ns, key)]!)
    )
  })

  const remove: StateShape["remove"] = Effect.fn("State.remove")(function* (ns, key, options = {}) {
    yield* checkDoc(ns, key)
    const expected = options.expectedVersion
    const r = asArray(
      yield* del(
        [docKey(ns, key), histKey(ns, key), indexKey(ns), expiryKey(ns)],
        [key, expected === undefined ? "" : String(expected), channel, message(ns, key)]
      )
    ).map(num)
    if (r[0] !== 1) return yield* conflict(ns, key, expected ?? 0, r[1]!)
    return { deleted: r[1]! > 0, version: r[1]! }
  })

  const list: StateShape["list"] = Effect.fn("State.list")(function* (ns, options = {}) {
    yield* checkName("namespace", ns)
    const limit = pageSize(options.limit, 100, limits)
    const prefix = options.prefix ?? ""
    yield* checkText("prefix", prefix)
    const after = options.cursor === undefined ? undefined : yield* listCursor.decode(options.cursor)
    // Keys are UTF-8, which never holds the byte 0xff: [prefix, prefix+0xff] spans every key with the prefix.
    const min = after !== undefined ? `(${after}` : prefix === "" ? "-" : `[${prefix}`
    const max = prefix === "" ? "+" : Buffer.concat([Buffer.from(`[${prefix}`, "utf8"), Buffer.from([0xff])])
    const [exhausted, last, flat] = asArray(
      yield* listScript([indexKey(ns)], [min, max, String(limit + 1), docPrefix(ns), String(LIST_SCAN_BUDGET)], {
        idempotent: true
      })
    )
    const found = asArray(flat)
    const all: Array<ListItem> = []
    for (let i = 0; i + 2 < found.length; i += 3) {
      all.push({ key: String(found[i]), version: num(found[i + 1]), updatedAt: num(found[i + 2]) })
    }
    const items = fitBudget(all.slice(0, limit), outputBudget(limits))
    if (items.length < all.length) {
      return { items, truncated: true, cursor: listCursor.encode(items[items.length - 1]!.key) }
    }
    if (num(exhausted) !== 1 && String(last) !== "") {
      return { items, truncated: true, cursor: listCursor.encode(String(last)) }
    }
    return { items, truncated: false, cursor: null }
  })

  const history: StateShape["history"] = Effect.fn("State.history")(function* (ns, key, options = {}) {
    yield* checkDoc(ns, key)
    const limit = pageSize(options.limit, limits.history, limits)
    const before = options.cursor === undefined ? undefined : yield* historyCursor.decode(options.cursor)
    const [, raw] = asArray(
      yield* historyScript(
        [docKey(ns, key), histKey(ns, key)],
        [before === undefined ? "" : String(before), String(limit + 1)],
        { idempotent: true }
      )
    )
    const all = asArray(raw).map((s) => JSON.parse(String(s)) as HistoryEntry)
    const entries = fitBudget(all.slice(0, limit), outputBudget(limits))
    const more = entries.length < all.length
    return {
      entries,
      truncated: more,
      cursor: more ? historyCursor.encode(entries[entries.length - 1]!.version) : null
    }
  })

  const acquireLock: StateShape["acquireLock"] = Effect.fn("State.acquireLock")(function* (name, owner, ttlSeconds) {
    yield* checkLock(name, owner, ttlSeconds)
    const [acquired, token, holder, expiresAt] = asArray(
      yield* lockAcquire([lockKey(name), fenceKey(name)], [owner, String(ttlSeconds * 1000)])
    )
    return {
      acquired: num(acquired) === 1,
      fencingToken: num(acquired) === 1 ? num(token) : null,
      owner: String(holder),
      expiresAt: num(expiresAt)
    }
  })

  const releaseLock: StateShape["releaseLock"] = Effect.fn("State.releaseLock")(function* (name, owner, token) {
    yield* checkLock(name, owner)
    const [status, holder] = asArray(yield* lockRelease([lockKey(name)], [owner, String(token)]))
    if (num(status) === -1) return yield* notHolder(name, String(holder))
    return { released: num(status) === 1 }
  })

  const changes: Stream.Stream<StateEvent> = ChangeChannel.listen(redis, channel, (raw) => {
    const parsed = parseMessage(raw)
    return parsed === undefined ? undefined : ({ _tag: "Changed", ...parsed } as const)
  })

  return { get, set, patch, remove, list, history, acquireLock, releaseLock, changes } satisfies StateShape
})

const parseMessage = (raw: string): { readonly namespace: string; readonly key: string } | undefined => {
  try {
    const v: unknown = JSON.parse(raw)
    return Array.isArray(v) && typeof v[0] === "string" && typeof v[1] === "string"
      ? { namespace: v[0], key: v[1] }
      : undefined
  } catch {
    return undefined
  }
}
