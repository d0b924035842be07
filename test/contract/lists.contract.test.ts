import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { CollectionError } from "../../src/services/Collection.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Lists } from "../../src/services/Lists.ts"
import { Sets } from "../../src/services/Sets.ts"
import { BINARY_B64, jsonBytes, memoryLayer, Raw, redisLayer, uniqueKey } from "./collections.ts"
import { runContract } from "./layers.ts"

const values = (page: { readonly items: ReadonlyArray<{ readonly value: string }> }) => page.items.map((i) => i.value)

/** Every page of lrange, following cursors to the end. */
const allPages = (key: string, start: number, stop: number) =>
  Effect.gen(function* () {
    const l = yield* Lists
    const pages = []
    let cursor: string | undefined
    do {
      const page = yield* l.range(key, start, stop, cursor)
      pages.push(page)
      cursor = page.cursor
      assert.strictEqual(page.truncated, cursor !== undefined)
    } while (cursor !== undefined && pages.length < 100)
    return pages
  })

const fill = (key: string, n: number) =>
  Effect.gen(function* () {
    const l = yield* Lists
    for (let i = 0; i < n; i += 10) {
      yield* l.push(
        "right",
        key,
        Array.from({ length: Math.min(10, n - i) }, (_, j) => `v${i + j}`)
      )
    }
  })

runContract("Lists contract", memoryLayer, redisLayer, (it, target) => {
  it.effect("lpush and rpush add in Redis order; lrange and llen read it back", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      assert.deepStrictEqual(yield* l.push("right", key, ["c", "d"]), { length: 2 })
      assert.deepStrictEqual(yield* l.push("left", key, ["b", "a"]), { length: 4 })
      assert.deepStrictEqual(values(yield* l.range(key, 0, -1)), ["a", "b", "c", "d"])
      assert.deepStrictEqual(yield* l.length(key), { length: 4 })
      assert.deepStrictEqual(yield* l.range(key, 0, -1), {
        items: ["a", "b", "c", "d"].map((value) => ({ value, encoding: "utf8" as const })),
        length: 4,
        truncated: false
      })
    })
  )

  it.effect("lrange follows Redis index rules: negative, clamped, empty", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      yield* l.push("right", key, ["a", "b", "c", "d", "e"])
      assert.deepStrictEqual(values(yield* l.range(key, -2, -1)), ["d", "e"])
      assert.deepStrictEqual(values(yield* l.range(key, 1, 2)), ["b", "c"])
      assert.deepStrictEqual(values(yield* l.range(key, -100, 1)), ["a", "b"])
      assert.deepStrictEqual(values(yield* l.range(key, 3, 100)), ["d", "e"])
      assert.deepStrictEqual(values(yield* l.range(key, 3, 1)), [])
      assert.deepStrictEqual(values(yield* l.range(key, 10, 20)), [])
      assert.deepStrictEqual(yield* l.range(uniqueKey("missing"), 0, -1), { items: [], length: 0, truncated: false })
      assert.deepStrictEqual(yield* l.length(uniqueKey("missing")), { length: 0 })
    })
  )

  it.effect("lpop and rpop take from each end; popping the last value deletes the key", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      yield* l.push("right", key, ["a", "b", "c", "d", "e"])
      assert.deepStrictEqual(values(yield* l.pop("left", key)), ["a"])
      assert.deepStrictEqual(values(yield* l.pop("right", key, 2)), ["e", "d"])
      const rest = yield* l.pop("left", key, 5)
      assert.deepStrictEqual(rest, {
        items: [
          { value: "b", encoding: "utf8" },
          { value: "c", encoding: "utf8" }
        ],
        length: 0,
        truncated: false
      })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
      assert.deepStrictEqual(yield* l.pop("right", key), { items: [], length: 0, truncated: false })
    })
  )

  it.effect("onlyIfExists pushes only onto an existing list", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      assert.deepStrictEqual(yield* l.push("left", key, ["a"], { onlyIfExists: true }), { length: 0 })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
      yield* l.push("left", key, ["a"])
      assert.deepStrictEqual(yield* l.push("right", key, ["b"], { onlyIfExists: true }), { length: 2 })
    })
  )

  it.effect("binary values round-trip as base64", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      yield* l.push("right", key, [BINARY_B64, "aGk="], { encoding: "base64" })
      assert.deepStrictEqual((yield* l.range(key, 0, -1)).items, [
        { value: BINARY_B64, encoding: "base64" },
        { value: "hi", encoding: "utf8" }
      ])
      assert.deepStrictEqual((yield* l.pop("left", key)).items, [{ value: BINARY_B64, encoding: "base64" }])
    })
  )

  it.effect("WrongType names the actual type, whichever service or client wrote the key", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const str = uniqueKey("str")
      yield* (yield* Raw).setString(str, "plain")
      const hash = uniqueKey("hash")
      yield* (yield* Hashes).hset(hash, { f: "v" })
      const set = uniqueKey("set")
      yield* (yield* Sets).sadd(set, ["m"])
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, CollectionError>, string]> = [
        [l.push("left", str, ["x"], { ttlSeconds: 5 }), "string"],
        [l.push("right", hash, ["x"]), "hash"],
        [l.pop("left", hash), "hash"],
        [l.pop("right", set, 2), "set"],
        [l.range(set, 0, -1), "set"],
        [l.length(str), "string"]
      ]
      for (const [attempt, actual] of cases) {
        const e = yield* Effect.flip(attempt)
        assert.strictEqual(e._tag, "WrongType")
        assert.strictEqual(e._tag === "WrongType" && e.actualType, actual)
      }
      assert.strictEqual(yield* (yield* Raw).pttl(str), -1)
    })
  )

  it.effect("bad counts and oversize writes fail before Redis", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("l")
      assert.strictEqual((yield* Effect.flip(l.pop("left", key, 0)))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(l.pop("left", key, -1)))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(l.pop("left", key, 11)))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(l.range(key, 0.5, 2)))._tag, "InvalidArgument")
      const eleven = Array.from({ length: 11 }, (_, i) => `v${i}`)
      assert.strictEqual((yield* Effect.flip(l.push("right", key, eleven)))._tag, "TooLarge")
      assert.strictEqual((yield* Effect.flip(l.push("right", key, ["x".repeat(2049)])))._tag, "TooLarge")
      assert.strictEqual((yield* Effect.flip(l.range(key, 0, -1, "x")))._tag, "InvalidArgument")
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("lrange pages a long list with cursors, in order, to the end", () =>
    Effect.gen(function* () {
      const key = uniqueKey("long")
      yield* fill(key, 25)
      const pages = yield* allPages(key, 0, -1)
      assert.deepStrictEqual(
        pages.map((p) => p.items.length),
        [10, 10, 5]
      )
      assert.deepStrictEqual(
        pages.flatMap(values),
        Array.from({ length: 25 }, (_, i) => `v${i}`)
      )
      const tail = yield* allPages(key, -13, -2)
      assert.deepStrictEqual(
        tail.flatMap(values),
        Array.from({ length: 12 }, (_, i) => `v${12 + i}`)
      )
    })
  )

  it.effect("lrange keeps pages under the byte cap; an oversize value comes back cut", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("bytes")
      for (let i = 0; i < 5; i++) yield* l.push("right", key, [String(i).repeat(1500)])
      const pages = yield* allPages(key, 0, -1)
      assert.isAbove(pages.length, 2)
      for (const p of pages) assert.isAtMost(jsonBytes(p), 4096)
      assert.deepStrictEqual(
        pages.flatMap(values),
        [0, 1, 2, 3, 4].map((i) => String(i).repeat(1500))
      )
      const huge = uniqueKey("huge")
      yield* (yield* Raw).rpushBytes(huge, Buffer.from("z".repeat(10_000)))
      const page = yield* l.range(huge, 0, -1)
      assert.strictEqual(page.items[0]!.truncated, true)
      assert.strictEqual(page.items[0]!.length, 10_000)
      assert.isAtMost(jsonBytes(page), 4096)
    })
  )

  it.effect("pops stop at the byte cap without losing values, and refuse a value too big to return", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("pop")
      for (const c of ["a", "b", "c"]) yield* l.push("right", key, [c.repeat(1500)])
      const first = yield* l.pop("left", key, 3)
      assert.deepStrictEqual(values(first), ["a".repeat(1500), "b".repeat(1500)])
      assert.isTrue(first.truncated)
      assert.strictEqual(first.length, 1)
      const second = yield* l.pop("left", key, 3)
      assert.deepStrictEqual(values(second), ["c".repeat(1500)])
      assert.isFalse(second.truncated)

      const huge = uniqueKey("huge")
      yield* (yield* Raw).rpushBytes(huge, Buffer.from("z".repeat(10_000)))
      const e = yield* Effect.flip(l.pop("right", huge))
      assert.strictEqual(e._tag, "TooLarge")
      assert.deepStrictEqual(yield* l.length(huge), { length: 1 })
    })
  )

  it.effect("ttlSeconds expires the list", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const key = uniqueKey("ttl")
      yield* l.push("right", key, ["a"], { ttlSeconds: 1 })
      const ttl = yield* (yield* Raw).pttl(key)
      assert.isTrue(ttl > 0 && ttl <= 1000)
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* l.length(key), { length: 0 })
    })
  )
})
