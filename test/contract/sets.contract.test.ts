import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { CollectionError } from "../../src/services/Collection.ts"
import { Sets } from "../../src/services/Sets.ts"
import { SortedSets } from "../../src/services/SortedSets.ts"
import { BINARY_B64, jsonBytes, memoryLayer, Raw, redisLayer, uniqueKey } from "./collections.ts"
import { runContract } from "./layers.ts"

/** Every page of smembers, following cursors to the end. */
const allPages = (key: string, limit?: number) =>
  Effect.gen(function* () {
    const s = yield* Sets
    const pages = []
    let cursor: string | undefined
    do {
      const page = yield* s.smembers(key, { cursor, limit })
      pages.push(page)
      cursor = page.cursor
      assert.strictEqual(page.truncated, cursor !== undefined)
    } while (cursor !== undefined && pages.length < 100)
    return pages
  })

const members = (pages: ReadonlyArray<{ readonly items: ReadonlyArray<{ readonly value: string }> }>) =>
  pages.flatMap((p) => p.items.map((i) => i.value))

runContract("Sets contract", memoryLayer, redisLayer, (it, target) => {
  it.effect("sadd adds unique members; sismember and smembers read them", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("s")
      assert.deepStrictEqual(yield* s.sadd(key, ["red", "green", "red"]), { added: 2 })
      assert.deepStrictEqual(yield* s.sadd(key, ["green", "blue"]), { added: 1 })
      assert.deepStrictEqual(yield* s.sismember(key, "blue"), { isMember: true })
      assert.deepStrictEqual(yield* s.sismember(key, "pink"), { isMember: false })
      assert.deepStrictEqual(members(yield* allPages(key)).sort(), ["blue", "green", "red"])
    })
  )

  it.effect("a missing key is an empty set, not an error", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("missing")
      assert.deepStrictEqual(yield* s.sismember(key, "x"), { isMember: false })
      assert.deepStrictEqual(yield* s.smembers(key), { items: [], truncated: false })
      assert.deepStrictEqual(yield* s.srem(key, ["x"]), { removed: 0 })
    })
  )

  it.effect("srem counts removed members and the emptied set disappears", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("s")
      yield* s.sadd(key, ["a", "b"])
      assert.deepStrictEqual(yield* s.srem(key, ["a", "zz"]), { removed: 1 })
      assert.deepStrictEqual(yield* s.srem(key, ["b"]), { removed: 1 })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("binary members round-trip as base64", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("s")
      yield* s.sadd(key, [BINARY_B64], { encoding: "base64" })
      assert.deepStrictEqual(yield* s.sismember(key, BINARY_B64, "base64"), { isMember: true })
      assert.deepStrictEqual((yield* s.smembers(key)).items, [{ value: BINARY_B64, encoding: "base64" }])
      assert.deepStrictEqual(yield* s.srem(key, [BINARY_B64], "base64"), { removed: 1 })
    })
  )

  it.effect("WrongType names the actual type", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const str = uniqueKey("str")
      yield* (yield* Raw).setString(str, "plain")
      const zset = uniqueKey("zset")
      yield* (yield* SortedSets).zadd(zset, [{ member: "m", score: 1 }])
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, CollectionError>, string]> = [
        [s.sadd(str, ["x"], { ttlSeconds: 5 }), "string"],
        [s.srem(zset, ["x"]), "zset"],
        [s.smembers(zset), "zset"],
        [s.sismember(str, "x"), "string"]
      ]
      for (const [attempt, actual] of cases) {
        const e = yield* Effect.flip(attempt)
        assert.strictEqual(e._tag, "WrongType")
        assert.strictEqual(e._tag === "WrongType" && e.actualType, actual)
      }
      assert.strictEqual(yield* (yield* Raw).pttl(str), -1)
    })
  )

  it.effect("oversize writes and bad cursors fail before Redis", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("s")
      const eleven = Array.from({ length: 11 }, (_, i) => `m${i}`)
      assert.strictEqual((yield* Effect.flip(s.sadd(key, eleven)))._tag, "TooLarge")
      assert.strictEqual((yield* Effect.flip(s.sadd(key, ["x".repeat(1500), "y".repeat(1500)])))._tag, "TooLarge")
      assert.strictEqual((yield* Effect.flip(s.srem(key, eleven)))._tag, "TooLarge")
      assert.strictEqual((yield* Effect.flip(s.smembers(key, { cursor: "nope" })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(s.smembers(key, { limit: 0 })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(s.sismember(key, "%%", "base64")))._tag, "InvalidArgument")
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("smembers pages a big set with cursors: every member exactly once", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("big")
      const all = Array.from({ length: 150 }, (_, i) => `member-${i}`)
      for (let i = 0; i < all.length; i += 10) yield* s.sadd(key, all.slice(i, i + 10))
      const pages = yield* allPages(key)
      assert.deepStrictEqual(members(pages).sort(), [...all].sort())
      for (const p of pages) assert.isAtMost(p.items.length, 10)
      const small = yield* allPages(key, 7)
      assert.deepStrictEqual(members(small).sort(), [...all].sort())
      for (const p of small) assert.isAtMost(p.items.length, 7)
    })
  )

  it.effect("smembers keeps pages under the byte cap; an oversize member comes back cut", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("bytes")
      for (let i = 0; i < 5; i++) yield* s.sadd(key, [String(i).repeat(1500)])
      const pages = yield* allPages(key)
      assert.isAbove(pages.length, 2)
      for (const p of pages) assert.isAtMost(jsonBytes(p), 4096)
      assert.strictEqual(new Set(members(pages)).size, 5)
      const huge = uniqueKey("huge")
      yield* (yield* Raw).saddBytes(huge, Buffer.from("z".repeat(10_000)))
      const page = yield* s.smembers(huge)
      assert.strictEqual(page.items[0]!.truncated, true)
      assert.strictEqual(page.items[0]!.length, 10_000)
    })
  )

  it.effect("ttlSeconds expires the set", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const key = uniqueKey("ttl")
      yield* s.sadd(key, ["a"], { ttlSeconds: 1 })
      const ttl = yield* (yield* Raw).pttl(key)
      assert.isTrue(ttl > 0 && ttl <= 1000)
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* s.sismember(key, "a"), { isMember: false })
    })
  )
})
