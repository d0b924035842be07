/**
 * The State service in process memory, with the same contract as on Redis:
 * versions, history, TTL (by Effect's Clock, so tests drive it with TestClock),
 * locks with fencing tokens, and change events through an in-process PubSub.
 * Each write reads, checks and stores in one synchronous step, so it is atomic.
 */
import { Clock, Effect, PubSub, Stream } from "effect"
import type { TooLarge, VersionConflict } from "../../Errors.ts"
import { ServerConfig } from "../../layers/Config.ts"
import { checkText } from "../KeyNames.ts"
import { type Json, mergePatch } from "./MergePatch.ts"
import {
  checkDoc,
  checkDocTtl,
  checkLock,
  checkName,
  checkPatch,
  conflict,
  encodeValue,
  fitBudget,
  type HistoryEntry,
  historyCursor,
  listCursor,
  notHolder,
  outputBudget,
  type PatchResult,
  pageSize,
  type StateDocument,
  type StateEvent,
  type StateShape,
  stateLimits,
  tooLarge
} from "./Model.ts"

interface Doc {
  value: Json
  version: number
  updatedAt: number
  expiresAt: number | null
  /** Newest first. */
  history: Array<HistoryEntry>
}

interface Lock {
  readonly owner: string
  readonly token: number
  expiresAt: number
}

/** Redis orders keys by their bytes; so does this. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

export const make = Effect.gen(function* () {
  const settings = yield* ServerConfig
  const limits = stateLimits(settings)
  const namespaces = new Map<string, Map<string, Doc>>()
  const locks = new Map<string, Lock>()
  const fences = new Map<string, number>()
  const events = yield* PubSub.unbounded<StateEvent>()

  const liveDoc = (ns: string, key: string, now: number): Doc | undefined => {
    const docs = namespaces.get(ns)
    const doc = docs?.get(key)
    if (doc === undefined) return undefined
    if (doc.expiresAt !== null && doc.expiresAt <= now) {
      docs!.delete(key)
      return undefined
    }
    return doc
  }

  const publish = (ns: string, key: string) => PubSub.publish(events, { _tag: "Changed", namespace: ns, key })

  /** Store `json` as the next version if the version matches; the current version otherwise. */
  const store = (
    ns: string,
    key: string,
    value: Json,
    expected: number | undefined,
    ttlSeconds: number | undefined,
    keepTtl: boolean,
    now: number
  ) => {
    const doc = liveDoc(ns, key, now)
    const current = doc?.version ?? 0
    if (expected !== undefined && expected !== current) return { ok: false as const, current }
    const version = current + 1
    const expiresAt =
      ttlSeconds !== undefined ? now + ttlSeconds * 1000 : keepTtl && doc !== undefined ? doc.expiresAt : null
    const entry: HistoryEntry = { version, updatedAt: now, value }
    const history = [entry, ...(doc?.history ?? [])].slice(0, limits.history)
    let docs = namespaces.get(ns)
    if (docs === undefined) {
      docs = new Map()
      namespaces.set(ns, docs)
    }
    docs.set(key, { value, version, updatedAt: now, expiresAt, history })
    return { ok: true as const, version, updatedAt: now, expiresAt }
  }

  const get: StateShape["get"] = Effect.fn("State.get")(function* (ns, key) {
    yield* checkDoc(ns, key)
    const now = yield* Clock.currentTimeMillis
    const doc = liveDoc(ns, key, now)
    return doc === undefined
      ? { found: false, value: null, version: 0, updatedAt: null, expiresAt: null }
      : ({
          found: true,
          value: doc.value,
          version: doc.version,
          updatedAt: doc.updatedAt,
          expiresAt: doc.expiresAt
        } satisfies StateDocument)
  })

  const set: StateShape["set"] = Effect.fn("State.set")(function* (ns, key, value, options = {}) {
    yield* checkDoc(ns, key)
    yield* checkDocTtl(options.ttlSeconds)
    yield* encodeValue("The value", value, limits)
    const now = yield* Clock.currentTimeMillis
    const r = store(ns, key, value, options.expectedVersion, options.ttlSeconds, false, now)
    if (!r.ok) return yield* conflict(ns, key, options.expectedVersion ?? 0, r.current)
    yield* publish(ns, key)
    return { version: r.version, updatedAt: r.updatedAt, expiresAt: r.expiresAt }
  })

  const patch: StateShape["patch"] = Effect.fn("State.patch")(function* (ns, key, patchValue, options = {}) {
    yield* checkDoc(ns, key)
    yield* checkDocTtl(options.ttlSeconds)
    yield* checkPatch(patchValue)
    yield* encodeValue("The patch", patchValue, limits)
    const now = yield* Clock.currentTimeMillis
    const expected = options.expectedVersion
    // Read, merge, check and store in one synchronous step: no other fiber runs in between.
    const r = yield* Effect.suspend((): Effect.Effect<PatchResult, TooLarge | VersionConflict> => {
      const doc = liveDoc(ns, key, now)
      const current = doc?.version ?? 0
      if (expected !== undefined && expected !== current) return Effect.fail(conflict(ns, key, expected, current))
      const value = mergePatch(doc?.value, patchValue)
      const size = Buffer.byteLength(JSON.stringify(value))
      if (size > limits.maxValueBytes) return Effect.fail(tooLarge("The patched value", size, limits.maxValueBytes))
      const stored = store(ns, key, value, current, options.ttlSeconds, true, now)
      if (!stored.ok) return Effect.fail(conflict(ns, key, current, stored.current))
      return Effect.succeed({
        version: stored.version,
        updatedAt: stored.updatedAt,
        expiresAt: stored.expiresAt,
        value
      })
    })
    yield* publish(ns, key)
    return r
  })

  const remove: StateShape["remove"] = Effect.fn("State.remove")(function* (ns, key, options = {}) {
    yield* checkDoc(ns, key)
    const now = yield* Clock.currentTimeMillis
    const doc = liveDoc(ns, key, now)
    const current = doc?.version ?? 0
    const expected = options.expectedVersion
    if (expected !== undefined && expected !== current) return yield* conflict(ns, key, expected, current)
    if (doc === undefined) return { deleted: false, version: 0 }
    namespaces.get(ns)?.delete(key)
    yield* publish(ns, key)
    return { deleted: true, version: current }
  })

  const list: StateShape["list"] = Effect.fn("State.list")(function* (ns, options = {}) {
    yield* checkName("namespace", ns)
    const limit = pageSize(options.limit, 100, limits)
    const prefix = options.prefix ?? ""
    yield* checkText("prefix", prefix)
    const after = options.cursor === undefined ? undefined : yield* listCursor.decode(options.cursor)
    const now = yield* Clock.currentTimeMillis
    const keys = [...(namespaces.get(ns)?.keys() ?? [])]
      .filter((k) => k.startsWith(prefix) && (after === undefined || byteOrder(k, after) > 0))
      .sort(byteOrder)
    const all = []
    for (const key of keys) {
      const doc = liveDoc(ns, key, now)
      if (doc !== undefined) all.push({ key, version: doc.version, updatedAt: doc.updatedAt })
      if (all.length > limit) break
    }
    const items = fitBudget(all.slice(0, limit), outputBudget(limits))
    return items.length < all.length
      ? { items, truncated: true, cursor: listCursor.encode(items[items.length - 1]!.key) }
      : { items, truncated: false, cursor: null }
  })

  const history: StateShape["history"] = Effect.fn("State.history")(function* (ns, key, options = {}) {
    yield* checkDoc(ns, key)
    const limit = pageSize(options.limit, limits.history, limits)
    const before = options.cursor === undefined ? undefined : yield* historyCursor.decode(options.cursor)
    const now = yield* Clock.currentTimeMillis
    const doc = liveDoc(ns, key, now)
    const all = (doc?.history ?? []).filter((e) => before === undefined || e.version < before).slice(0, limit + 1)
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
    const now = yield* Clock.currentTimeMillis
    const expiresAt = now + ttlSeconds * 1000
    const held = locks.get(name)
    if (held !== undefined && held.expiresAt > now) {
      if (held.owner !== owner)
        return { acquired: false, fencingToken: null, owner: held.owner, expiresAt: held.expiresAt }
      held.expiresAt = expiresAt
      return { acquired: true, fencingToken: held.token, owner, expiresAt }
    }
    const token = (fences.get(name) ?? 0) + 1
    fences.set(name, token)
    locks.set(name, { owner, token, expiresAt })
    return { acquired: true, fencingToken: token, owner, expiresAt }
  })

  const releaseLock: StateShape["releaseLock"] = Effect.fn("State.releaseLock")(function* (name, owner, token) {
    yield* checkLock(name, owner)
    const now = yield* Clock.currentTimeMillis
    const held = locks.get(name)
    if (held === undefined || held.expiresAt <= now) {
      locks.delete(name)
      return { released: false }
    }
    if (held.owner !== owner || held.token !== token) return yield* notHolder(name, held.owner)
    locks.delete(name)
    return { released: true }
  })

  const changes: Stream.Stream<StateEvent> = Stream.unwrap(
    Effect.map(PubSub.subscribe(events), (subscription) =>
      Stream.concat(Stream.make<[StateEvent]>({ _tag: "Ready" }), Stream.fromSubscription(subscription))
    )
  )

  return { get, set, patch, remove, list, history, acquireLock, releaseLock, changes } satisfies StateShape
})
