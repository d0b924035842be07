/**
 * The State contract, run on the in-memory layer and on Redis (with a key prefix,
 * a history of 5 versions and a 2000-byte value limit).
 */
import { randomUUID } from "node:crypto"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Queue, Stream } from "effect"
import { State, type StateEvent } from "../../src/services/State.ts"
import * as StateRedis from "../../src/services/state/StateRedis.ts"
import { MAX_LOCK_TTL_SECONDS, MAX_TTL_SECONDS } from "../../src/services/Ttl.ts"
import { onMemory, onRedis, redisClientLayer, runContract } from "./layers.ts"

const env = {
  REDIS_MCP_STATE_HISTORY: "5",
  REDIS_MCP_MAX_VALUE_BYTES: "2000",
  REDIS_MCP_MAX_ITEMS: "50",
  REDIS_MCP_KEY_PREFIX: "ct:"
}

const ns = () => `ns-${randomUUID()}`

runContract("State contract", onMemory(State.layerMemory, env), onRedis(State.layer, env), (it, target) => {
  it.effect("a missing document is found: false at version 0", () =>
    Effect.gen(function* () {
      const state = yield* State
      const doc = yield* state.get(ns(), "nothing")
      assert.deepStrictEqual(doc, { found: false, value: null, version: 0, updatedAt: null, expiresAt: null })
    })
  )

  it.effect("set creates at version 1 and each write adds one; get returns value, version and updatedAt", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const value = { plan: ["a", "b"], empty: [], nested: {}, big: 2 ** 60, small: 1e-7, f: 0.1, s: "é/✓" }
      const first = yield* state.set(n, "doc", value)
      assert.strictEqual(first.version, 1)
      assert.isNull(first.expiresAt)
      const doc = yield* state.get(n, "doc")
      assert.isTrue(doc.found)
      assert.strictEqual(JSON.stringify(doc.value), JSON.stringify(value))
      assert.strictEqual(doc.version, 1)
      assert.strictEqual(doc.updatedAt, first.updatedAt)
      const second = yield* state.set(n, "doc", null)
      assert.strictEqual(second.version, 2)
      const again = yield* state.get(n, "doc")
      assert.isTrue(again.found)
      assert.isNull(again.value)
      assert.isAtLeast(again.updatedAt!, first.updatedAt)
    })
  )

  it.effect("expectedVersion: 0 creates only, a mismatch is a VersionConflict carrying the current version", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      assert.strictEqual((yield* state.set(n, "k", { v: 1 }, { expectedVersion: 0 })).version, 1)
      const exists = yield* Effect.flip(state.set(n, "k", { v: 2 }, { expectedVersion: 0 }))
      assert.strictEqual(exists._tag, "VersionConflict")
      assert.strictEqual(exists._tag === "VersionConflict" && exists.currentVersion, 1)
      const stale = yield* Effect.flip(state.set(n, "k", { v: 2 }, { expectedVersion: 7 }))
      assert.strictEqual(stale._tag === "VersionConflict" && stale.currentVersion, 1)
      assert.strictEqual((yield* state.set(n, "k", { v: 2 }, { expectedVersion: 1 })).version, 2)
      const missing = yield* Effect.flip(state.set(n, "other", 1, { expectedVersion: 3 }))
      assert.strictEqual(missing._tag === "VersionConflict" && missing.currentVersion, 0)
      assert.deepStrictEqual((yield* state.get(n, "k")).value, { v: 2 })
      assert.isFalse((yield* state.get(n, "other")).found)
    })
  )

  it.effect(
    "patch merges (RFC 7396), creates when missing, checks expectedVersion and refuses non-object patches",
    () =>
      Effect.gen(function* () {
        const state = yield* State
        const n = ns()
        const created = yield* state.patch(n, "p", { status: "new", owner: { name: "a", team: "x" } })
        assert.strictEqual(created.version, 1)
        const patched = yield* state.patch(n, "p", { status: "done", owner: { team: null }, tags: [] })
        assert.strictEqual(patched.version, 2)
        assert.strictEqual(JSON.stringify(patched.value), '{"status":"done","owner":{"name":"a"},"tags":[]}')
        assert.deepStrictEqual((yield* state.get(n, "p")).value, patched.value)
        const conflict = yield* Effect.flip(state.patch(n, "p", { x: 1 }, { expectedVersion: 1 }))
        assert.strictEqual(conflict._tag === "VersionConflict" && conflict.currentVersion, 2)
        assert.strictEqual((yield* state.patch(n, "p", { x: 1 }, { expectedVersion: 2 })).version, 3)
        const createOnly = yield* Effect.flip(state.patch(n, "p", { y: 1 }, { expectedVersion: 0 }))
        assert.strictEqual(createOnly._tag, "VersionConflict")
        for (const bad of [[1], "text", null, 3]) {
          assert.strictEqual((yield* Effect.flip(state.patch(n, "p", bad)))._tag, "InvalidArgument")
        }
        assert.strictEqual((yield* state.get(n, "p")).version, 3)
      })
  )

  it.effect("delete removes the document and its history; expectedVersion guards it; a new one starts at 1", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      yield* state.set(n, "d", 1)
      yield* state.set(n, "d", 2)
      const conflict = yield* Effect.flip(state.remove(n, "d", { expectedVersion: 1 }))
      assert.strictEqual(conflict._tag === "VersionConflict" && conflict.currentVersion, 2)
      assert.deepStrictEqual(yield* state.remove(n, "d", { expectedVersion: 2 }), { deleted: true, version: 2 })
      assert.deepStrictEqual(yield* state.remove(n, "d"), { deleted: false, version: 0 })
      assert.isFalse((yield* state.get(n, "d")).found)
      assert.deepStrictEqual((yield* state.history(n, "d")).entries, [])
      assert.strictEqual((yield* state.set(n, "d", 3, { expectedVersion: 0 })).version, 1)
      assert.deepStrictEqual(
        (yield* state.history(n, "d")).entries.map((e) => e.value),
        [3]
      )
    })
  )

  it.effect("list pages through a namespace in byte order, by prefix, with an opaque cursor", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const keys = ["task/3", "task/1", "other", "task/2", "task/10", "tásk", "task/é"]
      for (const k of keys) yield* state.set(n, k, { k })
      yield* state.set(n, "task/1", { k: "again" })
      yield* state.set(ns(), "task/elsewhere", 1)
      yield* state.remove(n, "task/2")
      const seen: Array<string> = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = yield* state.list(n, { prefix: "task/", limit: 2, ...(cursor ? { cursor } : {}) })
        assert.isAtMost(page.items.length, 2)
        seen.push(...page.items.map((i) => i.key))
        for (const item of page.items) assert.strictEqual(item.version, item.key === "task/1" ? 2 : 1)
        cursor = page.cursor ?? undefined
        assert.strictEqual(page.truncated, page.cursor !== null)
        pages++
      } while (cursor !== undefined && pages < 10)
      assert.deepStrictEqual(seen, ["task/1", "task/10", "task/3", "task/é"])
      const all = yield* state.list(n)
      assert.deepStrictEqual(
        all.items.map((i) => i.key),
        ["other", "task/1", "task/10", "task/3", "task/é", "tásk"]
      )
      assert.isFalse(all.truncated)
      assert.deepStrictEqual((yield* state.list(ns())).items, [])
      assert.strictEqual((yield* Effect.flip(state.list(n, { cursor: "!!not a cursor" })))._tag, "InvalidArgument")
    })
  )

  it.effect("history keeps the last N versions, newest first, and pages with a cursor", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      for (let i = 1; i <= 7; i++) {
        if (i % 2 === 0) yield* state.patch(n, "h", { i })
        else yield* state.set(n, "h", { i })
      }
      const full = yield* state.history(n, "h")
      assert.deepStrictEqual(
        full.entries.map((e) => e.version),
        [7, 6, 5, 4, 3]
      )
      assert.deepStrictEqual(
        full.entries.map((e) => e.value),
        [{ i: 7 }, { i: 6 }, { i: 5 }, { i: 4 }, { i: 3 }]
      )
      assert.isFalse(full.truncated)
      const first = yield* state.history(n, "h", { limit: 2 })
      assert.deepStrictEqual(
        first.entries.map((e) => e.version),
        [7, 6]
      )
      assert.isTrue(first.truncated)
      const second = yield* state.history(n, "h", { limit: 2, cursor: first.cursor! })
      assert.deepStrictEqual(
        second.entries.map((e) => e.version),
        [5, 4]
      )
      const last = yield* state.history(n, "h", { limit: 2, cursor: second.cursor! })
      assert.deepStrictEqual(
        last.entries.map((e) => e.version),
        [3]
      )
      assert.isFalse(last.truncated)
      assert.isNull(last.cursor)
      assert.deepStrictEqual((yield* state.history(n, "missing")).entries, [])
    })
  )

  it.effect("ttlSeconds expires a document; patch keeps the TTL, set without TTL removes it", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const set = yield* state.set(n, "t", { a: 1 }, { ttlSeconds: 1 })
      assert.isNotNull(set.expiresAt)
      assert.isAbove(set.expiresAt!, set.updatedAt)
      const patched = yield* state.patch(n, "t", { b: 2 })
      assert.isNotNull(patched.expiresAt)
      assert.isNotNull((yield* state.get(n, "t")).expiresAt)
      yield* state.set(n, "kept", 1, { ttlSeconds: 1 })
      assert.isNull((yield* state.set(n, "kept", 2)).expiresAt)
      yield* state.patch(n, "patched-ttl", { a: 1 }, { ttlSeconds: 1 })
      yield* target.advance(1500)
      assert.isFalse((yield* state.get(n, "t")).found)
      assert.isFalse((yield* state.get(n, "patched-ttl")).found)
      assert.deepStrictEqual((yield* state.history(n, "t")).entries, [])
      assert.deepStrictEqual(
        (yield* state.list(n)).items.map((i) => i.key),
        ["kept"]
      )
      assert.strictEqual((yield* state.set(n, "t", 1, { expectedVersion: 0 })).version, 1)
    })
  )

  it.effect("values over the size limit fail with TooLarge; bad namespaces with InvalidArgument", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const big = "x".repeat(2100)
      assert.strictEqual((yield* Effect.flip(state.set(n, "big", big)))._tag, "TooLarge")
      yield* state.set(n, "grow", { a: "x".repeat(1500) })
      const grown = yield* Effect.flip(state.patch(n, "grow", { b: "y".repeat(600) }))
      assert.strictEqual(grown._tag, "TooLarge")
      assert.strictEqual((yield* state.get(n, "grow")).version, 1)
      assert.isFalse((yield* state.get(n, "big")).found)
      assert.strictEqual((yield* Effect.flip(state.get("a{b}", "k")))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(state.set("", "k", 1)))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(state.acquireLock("l{x", "me", 5)))._tag, "InvalidArgument")
    })
  )

  it.effect("names that are not valid Unicode, TTLs over 10 years and locks over 1 day are InvalidArgument", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const invalid = (self: Effect.Effect<unknown, { readonly _tag: string }>) =>
        Effect.map(Effect.flip(self), (e) => assert.strictEqual(e._tag, "InvalidArgument"))
      // "\ud800" and "\udbff" would both be stored as U+FFFD: the same document.
      yield* invalid(state.set("ns\ud800", "k", 1))
      yield* invalid(state.set(n, "k\udbff", 1))
      yield* invalid(state.get(n, "\udc00"))
      yield* invalid(state.list(n, { prefix: "p\ud800" }))
      yield* invalid(state.acquireLock("lock\ud800", "me", 5))
      yield* invalid(state.acquireLock(`lock-${randomUUID()}`, "me\ud800", 5))
      yield* invalid(state.set(n, "k", 1, { ttlSeconds: MAX_TTL_SECONDS + 1 }))
      yield* invalid(state.patch(n, "k", { a: 1 }, { ttlSeconds: 2 ** 53 }))
      yield* invalid(state.acquireLock(`lock-${randomUUID()}`, "me", MAX_LOCK_TTL_SECONDS + 1))
      yield* invalid(state.acquireLock(`lock-${randomUUID()}`, "me", 2 ** 53))
      assert.isFalse((yield* state.get(n, "k")).found)
      assert.isTrue((yield* state.acquireLock(`lock-${randomUUID()}`, "me", MAX_LOCK_TTL_SECONDS)).acquired)
      assert.strictEqual((yield* state.set(n, "long", 1, { ttlSeconds: MAX_TTL_SECONDS })).version, 1)
    })
  )

  it.effect("20 concurrent patchers: no update is lost", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => state.patch(n, "shared", { [`worker${i}`]: { done: true, i } }),
        { concurrency: "unbounded" }
      )
      const doc = yield* state.get(n, "shared")
      assert.strictEqual(doc.version, 20)
      assert.strictEqual(Object.keys(doc.value as object).length, 20)
      for (let i = 0; i < 20; i++) {
        assert.deepStrictEqual((doc.value as Record<string, unknown>)[`worker${i}`], { done: true, i })
      }
    })
  )

  it.effect("locks: contention, renewal, release only by the holder with its token, increasing fencing tokens", () =>
    Effect.gen(function* () {
      const state = yield* State
      const name = `lock-${randomUUID()}`
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => `agent-${i}`),
        (owner) => state.acquireLock(name, owner, 30),
        { concurrency: "unbounded" }
      )
      const winners = results.filter((r) => r.acquired)
      assert.strictEqual(winners.length, 1)
      const holder = winners[0]!.owner
      const token = winners[0]!.fencingToken!
      for (const r of results.filter((r) => !r.acquired)) {
        assert.isNull(r.fencingToken)
        assert.strictEqual(r.owner, holder)
        assert.isAbove(r.expiresAt, 0)
      }
      const renewed = yield* state.acquireLock(name, holder, 30)
      assert.isTrue(renewed.acquired)
      assert.strictEqual(renewed.fencingToken, token)
      const other = holder === "agent-0" ? "agent-1" : "agent-0"
      assert.strictEqual((yield* Effect.flip(state.releaseLock(name, other, token)))._tag, "LeaseExpired")
      assert.strictEqual((yield* Effect.flip(state.releaseLock(name, holder, token + 1)))._tag, "LeaseExpired")
      assert.deepStrictEqual(yield* state.releaseLock(name, holder, token), { released: true })
      assert.deepStrictEqual(yield* state.releaseLock(name, holder, token), { released: false })
      const next = yield* state.acquireLock(name, other, 30)
      assert.isTrue(next.acquired)
      assert.isAbove(next.fencingToken!, token)
      yield* state.releaseLock(name, other, next.fencingToken!)
    })
  )

  it.effect("locks expire after their TTL; the next holder gets a larger token and the old one cannot release", () =>
    Effect.gen(function* () {
      const state = yield* State
      const name = `lock-${randomUUID()}`
      const first = yield* state.acquireLock(name, "slow", 1)
      assert.isTrue(first.acquired)
      assert.isFalse((yield* state.acquireLock(name, "fast", 1)).acquired)
      yield* target.advance(1500)
      const second = yield* state.acquireLock(name, "fast", 10)
      assert.isTrue(second.acquired)
      assert.isAbove(second.fencingToken!, first.fencingToken!)
      const late = yield* Effect.flip(state.releaseLock(name, "slow", first.fencingToken!))
      assert.strictEqual(late._tag, "LeaseExpired")
      assert.deepStrictEqual(yield* state.releaseLock(name, "fast", second.fencingToken!), { released: true })
    })
  )

  it.effect("changes: a listener hears Ready, then each write and delete of any document", () =>
    Effect.gen(function* () {
      const state = yield* State
      const n = ns()
      const events = yield* Queue.unbounded<StateEvent>()
      const fiber = yield* Stream.runForEach(state.changes, (e) => Queue.offer(events, e)).pipe(Effect.forkChild)
      assert.strictEqual((yield* Queue.take(events))._tag, "Ready")
      yield* state.set(n, "a", 1)
      yield* state.patch(n, "b", { x: 1 })
      yield* state.remove(n, "a")
      yield* state.remove(n, "never-existed")
      yield* Effect.flip(state.set(n, "b", 2, { expectedVersion: 9 }))
      yield* state.set(n, "end", true)
      const seen: Array<string> = []
      while (seen[seen.length - 1] !== "end") {
        const e = yield* Queue.take(events)
        if (e._tag === "Changed" && e.namespace === n) seen.push(e.key)
      }
      assert.deepStrictEqual(seen, ["a", "b", "a", "end"])
      yield* Fiber.interrupt(fiber)
    })
  )
})

describe("State on Redis, two instances", () => {
  layer(redisClientLayer(env), { timeout: 60_000, excludeTestServices: true })("redis", (it) => {
    it.effect("patches racing from two instances (as from two servers) lose no update", () =>
      Effect.gen(function* () {
        // Each instance queues its own patches; between the two, only the version compare-and-set decides.
        const [a, b] = [yield* StateRedis.make, yield* StateRedis.make]
        const n = ns()
        yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (i) => (i % 2 === 0 ? a : b).patch(n, "shared", { [`w${i}`]: i, last: i }),
          { concurrency: "unbounded" }
        )
        const doc = yield* a.get(n, "shared")
        assert.strictEqual(doc.version, 20)
        const value = doc.value as Record<string, number>
        for (let i = 0; i < 20; i++) assert.strictEqual(value[`w${i}`], i)
        assert.deepStrictEqual(
          (yield* b.history(n, "shared", { limit: 20 })).entries.map((e) => e.version),
          [20, 19, 18, 17, 16]
        )
      })
    )
  })
})
