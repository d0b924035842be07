import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { CollectionError } from "../../src/services/Collection.ts"
import { Lists } from "../../src/services/Lists.ts"
import { SortedSets, type ZRangeQuery } from "../../src/services/SortedSets.ts"
import { BINARY_B64, jsonBytes, memoryLayer, Raw, redisLayer, uniqueKey } from "./collections.ts"
import { runContract } from "./layers.ts"

const names = (page: { readonly items: ReadonlyArray<{ readonly value: string }> }) => page.items.map((i) => i.value)

/** Every page of zrange, following cursors to the end. */
const allPages = (key: string, query: ZRangeQuery) =>
  Effect.gen(function* () {
    const z = yield* SortedSets
    const pages = []
    let cursor: string | undefined
    do {
      const page = yield* z.zrange(key, { ...query, cursor })
      pages.push(page)
      cursor = page.cursor
      assert.strictEqual(page.truncated, cursor !== undefined)
    } while (cursor !== undefined && pages.length < 100)
    return pages
  })

/** a..e with scores 1..5 */
const abcde = (key: string) =>
  Effect.flatMap(SortedSets, (z) =>
    z.zadd(
      key,
      ["a", "b", "c", "d", "e"].map((member, i) => ({ member, score: i + 1 }))
    )
  )

/** Members sharing score 0, for lex ranges. */
const lexSet = (key: string) =>
  Effect.flatMap(SortedSets, (z) =>
    z.zadd(
      key,
      ["apple", "banana", "cherry", "date", "elder"].map((member) => ({ member, score: 0 }))
    )
  )

runContract("SortedSets contract", memoryLayer, redisLayer, (it, target) => {
  it.effect("zadd adds and re-scores; zscore, zincrby and zrem work; missing is not an error", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      assert.deepStrictEqual(
        yield* z.zadd(key, [
          { member: "ada", score: 10 },
          { member: "bob", score: 5 }
        ]),
        { added: 2, updated: 0 }
      )
      assert.deepStrictEqual(
        yield* z.zadd(key, [
          { member: "ada", score: 12 },
          { member: "bob", score: 5 },
          { member: "cy", score: 1.5 }
        ]),
        { added: 1, updated: 1 }
      )
      assert.deepStrictEqual(yield* z.zscore(key, "ada"), { found: true, score: 12 })
      assert.deepStrictEqual(yield* z.zscore(key, "nobody"), { found: false, score: null })
      assert.deepStrictEqual(yield* z.zscore(uniqueKey("missing"), "x"), { found: false, score: null })
      assert.deepStrictEqual(yield* z.zincrby(key, "cy", 2.25), { score: 3.75 })
      assert.deepStrictEqual(yield* z.zincrby(key, "new", -4), { score: -4 })
      assert.deepStrictEqual(yield* z.zrem(key, ["ada", "ghost"]), { removed: 1 })
      assert.deepStrictEqual(yield* z.zrem(key, ["bob", "cy", "new"]), { removed: 3 })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("infinite scores come back as the strings inf and -inf", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* z.zincrby(key, "up", 1.7e308)
      assert.deepStrictEqual(yield* z.zincrby(key, "up", 1.7e308), { score: "inf" })
      yield* z.zincrby(key, "down", -1.7e308)
      yield* z.zincrby(key, "down", -1.7e308)
      assert.deepStrictEqual(yield* z.zscore(key, "down"), { found: true, score: "-inf" })
      const page = yield* z.zrange(key, { by: "score", start: "-inf", stop: "+inf", withScores: true })
      assert.deepStrictEqual(
        page.items.map((i) => [i.value, i.score]),
        [
          ["down", "-inf"],
          ["up", "inf"]
        ]
      )
    })
  )

  it.effect("zadd conditions: ifAbsent, ifPresent, gt, lt", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* z.zadd(key, [{ member: "a", score: 5 }])
      assert.deepStrictEqual(
        yield* z.zadd(
          key,
          [
            { member: "a", score: 9 },
            { member: "b", score: 1 }
          ],
          { condition: "ifAbsent" }
        ),
        { added: 1, updated: 0 }
      )
      assert.deepStrictEqual(yield* z.zscore(key, "a"), { found: true, score: 5 })
      assert.deepStrictEqual(
        yield* z.zadd(
          key,
          [
            { member: "a", score: 6 },
            { member: "c", score: 1 }
          ],
          { condition: "ifPresent" }
        ),
        { added: 0, updated: 1 }
      )
      assert.deepStrictEqual(yield* z.zscore(key, "c"), { found: false, score: null })
      assert.deepStrictEqual(yield* z.zadd(key, [{ member: "a", score: 2 }], { compare: "gt" }), {
        added: 0,
        updated: 0
      })
      assert.deepStrictEqual(
        yield* z.zadd(
          key,
          [
            { member: "a", score: 2 },
            { member: "d", score: 7 }
          ],
          { compare: "lt" }
        ),
        { added: 1, updated: 1 }
      )
      assert.deepStrictEqual(yield* z.zscore(key, "a"), { found: true, score: 2 })
      const e = yield* Effect.flip(z.zadd(key, [{ member: "a", score: 1 }], { condition: "ifAbsent", compare: "gt" }))
      assert.strictEqual(e._tag, "InvalidArgument")
      assert.strictEqual(yield* (yield* Raw).pttl(uniqueKey("never")), -2, "ifPresent on a missing key creates nothing")
      const missing = uniqueKey("z")
      yield* z.zadd(missing, [{ member: "x", score: 1 }], { condition: "ifPresent", ttlSeconds: 10 })
      assert.strictEqual(yield* (yield* Raw).pttl(missing), -2)
    })
  )

  it.effect("zrange by index: ranks, negatives, reverse, withScores", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* abcde(key)
      assert.deepStrictEqual(names(yield* z.zrange(key, { by: "index", start: 0, stop: -1 })), [
        "a",
        "b",
        "c",
        "d",
        "e"
      ])
      assert.deepStrictEqual(names(yield* z.zrange(key, { by: "index", start: -2, stop: -1 })), ["d", "e"])
      assert.deepStrictEqual(names(yield* z.zrange(key, { by: "index", start: 0, stop: 1, reverse: true })), ["e", "d"])
      assert.deepStrictEqual(names(yield* z.zrange(key, { by: "index", start: "1", stop: "2" })), ["b", "c"])
      assert.deepStrictEqual(names(yield* z.zrange(key, { by: "index", start: 7, stop: 9 })), [])
      assert.deepStrictEqual((yield* z.zrange(key, { by: "index", start: 0, stop: 0, withScores: true })).items, [
        { value: "a", encoding: "utf8", score: 1 }
      ])
      assert.deepStrictEqual((yield* z.zrange(key, { by: "index", start: 0, stop: 0 })).items, [
        { value: "a", encoding: "utf8" }
      ])
      assert.deepStrictEqual(yield* z.zrange(uniqueKey("missing"), { by: "index", start: 0, stop: -1 }), {
        items: [],
        truncated: false
      })
    })
  )

  it.effect("zrange by score: inclusive, exclusive, infinities, reverse, offset and count", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* abcde(key)
      const by = (q: Omit<ZRangeQuery, "by">) => Effect.map(z.zrange(key, { by: "score", ...q }), names)
      assert.deepStrictEqual(yield* by({ start: 2, stop: 4 }), ["b", "c", "d"])
      assert.deepStrictEqual(yield* by({ start: "(2", stop: "(4" }), ["c"])
      assert.deepStrictEqual(yield* by({ start: "-inf", stop: "2.5" }), ["a", "b"])
      assert.deepStrictEqual(yield* by({ start: "(3", stop: "+inf" }), ["d", "e"])
      assert.deepStrictEqual(yield* by({ start: "+inf", stop: "(3", reverse: true }), ["e", "d"])
      assert.deepStrictEqual(yield* by({ start: "-inf", stop: "+inf", offset: 1, count: 2 }), ["b", "c"])
      assert.deepStrictEqual(yield* by({ start: 5, stop: 1, reverse: true, offset: 1, count: 3 }), ["d", "c", "b"])
      assert.deepStrictEqual(yield* by({ start: 4, stop: 2 }), [])
      assert.deepStrictEqual(
        (yield* z.zrange(key, { by: "score", start: 1, stop: 2, withScores: true })).items.map((i) => i.score),
        [1, 2]
      )
    })
  )

  it.effect("zrange by lex: bounds, - and +, reverse, limit, base64 bounds", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* lexSet(key)
      const by = (q: Omit<ZRangeQuery, "by">) => Effect.map(z.zrange(key, { by: "lex", ...q }), names)
      assert.deepStrictEqual(yield* by({ start: "[banana", stop: "(date" }), ["banana", "cherry"])
      assert.deepStrictEqual(yield* by({ start: "(banana", stop: "[date" }), ["cherry", "date"])
      assert.deepStrictEqual(yield* by({ start: "-", stop: "[b" }), ["apple"])
      assert.deepStrictEqual(yield* by({ start: "[d", stop: "+" }), ["date", "elder"])
      assert.deepStrictEqual(yield* by({ start: "+", stop: "-", reverse: true, count: 2 }), ["elder", "date"])
      assert.deepStrictEqual(yield* by({ start: "-", stop: "+", offset: 3 }), ["date", "elder"])
      assert.deepStrictEqual(
        yield* by({ start: `[${Buffer.from("cherry").toString("base64")}`, stop: "+", encoding: "base64" }),
        ["cherry", "date", "elder"]
      )
      assert.deepStrictEqual(yield* by({ start: "+", stop: "-" }), [])
    })
  )

  it.effect("bad bounds and options are InvalidArgument before Redis", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      const bad: ReadonlyArray<ZRangeQuery> = [
        { by: "index", start: "x", stop: 1 },
        { by: "index", start: 0.5, stop: 1 },
        { by: "index", start: 0, stop: 1, count: 2 },
        { by: "score", start: "abc", stop: 1 },
        { by: "score", start: "[1", stop: 2 },
        { by: "score", start: 1, stop: "nan" },
        { by: "lex", start: "a", stop: "+" },
        { by: "lex", start: 1, stop: "+" },
        { by: "lex", start: "-", stop: "+", withScores: true },
        { by: "score", start: 1, stop: 2, offset: -1 },
        { by: "score", start: 1, stop: 2, count: 0 },
        { by: "score", start: 1, stop: 2, cursor: "x" }
      ]
      for (const q of bad) {
        const e = yield* Effect.flip(z.zrange(key, q))
        assert.strictEqual(e._tag, "InvalidArgument", JSON.stringify(q))
      }
      assert.strictEqual(
        (yield* Effect.flip(z.zadd(key, [{ member: "a", score: Number.NaN }])))._tag,
        "InvalidArgument"
      )
      assert.strictEqual((yield* Effect.flip(z.zincrby(key, "a", Infinity)))._tag, "InvalidArgument")
      const eleven = Array.from({ length: 11 }, (_, i) => ({ member: `m${i}`, score: i }))
      assert.strictEqual((yield* Effect.flip(z.zadd(key, eleven)))._tag, "TooLarge")
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("zrange pages by index, score and lex with cursors to the end", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("big")
      const all = Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(2, "0")}`)
      for (let i = 0; i < 25; i += 10) {
        yield* z.zadd(
          key,
          all.slice(i, i + 10).map((member, j) => ({ member, score: i + j }))
        )
      }
      const byIndex = yield* allPages(key, { by: "index", start: 0, stop: -1 })
      assert.deepStrictEqual(
        byIndex.map((p) => p.items.length),
        [10, 10, 5]
      )
      assert.deepStrictEqual(byIndex.flatMap(names), all)
      const reversed = yield* allPages(key, { by: "index", start: 0, stop: -1, reverse: true })
      assert.deepStrictEqual(reversed.flatMap(names), [...all].reverse())
      const byScore = yield* allPages(key, { by: "score", start: "(2", stop: "+inf", offset: 1, count: 15 })
      assert.deepStrictEqual(
        byScore.map((p) => p.items.length),
        [10, 5]
      )
      assert.deepStrictEqual(byScore.flatMap(names), all.slice(4, 19))
      const lexKey = uniqueKey("lex")
      for (let i = 0; i < 25; i += 10)
        yield* z.zadd(
          lexKey,
          all.slice(i, i + 10).map((member) => ({ member, score: 0 }))
        )
      const byLex = yield* allPages(lexKey, { by: "lex", start: "+", stop: "[m03", reverse: true })
      assert.deepStrictEqual(byLex.flatMap(names), all.slice(3).reverse())
    })
  )

  it.effect("zrange keeps pages under the byte cap", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("bytes")
      for (let i = 0; i < 5; i++) yield* z.zadd(key, [{ member: String(i).repeat(1500), score: i }])
      const pages = yield* allPages(key, { by: "score", start: "-inf", stop: "+inf", withScores: true })
      assert.isAbove(pages.length, 2)
      for (const p of pages) assert.isAtMost(jsonBytes(p), 4096)
      assert.deepStrictEqual(
        pages.flatMap((p) => p.items.map((i) => i.score)),
        [0, 1, 2, 3, 4]
      )
    })
  )

  it.effect("binary members round-trip as base64", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("z")
      yield* z.zadd(key, [{ member: BINARY_B64, score: 3 }], { encoding: "base64" })
      assert.deepStrictEqual(yield* z.zscore(key, BINARY_B64, "base64"), { found: true, score: 3 })
      assert.deepStrictEqual((yield* z.zrange(key, { by: "index", start: 0, stop: -1 })).items, [
        { value: BINARY_B64, encoding: "base64" }
      ])
      assert.deepStrictEqual(yield* z.zincrby(key, BINARY_B64, 1, "base64"), { score: 4 })
      assert.deepStrictEqual(yield* z.zrem(key, [BINARY_B64], "base64"), { removed: 1 })
    })
  )

  it.effect("WrongType names the actual type", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const str = uniqueKey("str")
      yield* (yield* Raw).setString(str, "plain")
      const list = uniqueKey("list")
      yield* (yield* Lists).push("left", list, ["x"])
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, CollectionError>, string]> = [
        [z.zadd(list, [{ member: "a", score: 1 }], { ttlSeconds: 5 }), "list"],
        [z.zrange(str, { by: "index", start: 0, stop: -1 }), "string"],
        [z.zrange(list, { by: "score", start: "-inf", stop: "+inf" }), "list"],
        [z.zrange(list, { by: "lex", start: "-", stop: "+" }), "list"],
        [z.zrem(str, ["a"]), "string"],
        [z.zscore(list, "a"), "list"],
        [z.zincrby(str, "a", 1), "string"]
      ]
      for (const [attempt, actual] of cases) {
        const e = yield* Effect.flip(attempt)
        assert.strictEqual(e._tag, "WrongType")
        assert.strictEqual(e._tag === "WrongType" && e.actualType, actual)
      }
      assert.strictEqual(yield* (yield* Raw).pttl(list), -1)
    })
  )

  it.effect("ttlSeconds expires the sorted set", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const key = uniqueKey("ttl")
      yield* z.zadd(key, [{ member: "a", score: 1 }], { ttlSeconds: 1 })
      const ttl = yield* (yield* Raw).pttl(key)
      assert.isTrue(ttl > 0 && ttl <= 1000)
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* z.zscore(key, "a"), { found: false, score: null })
    })
  )
})
