import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { CollectionError } from "../../src/services/Collection.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Lists } from "../../src/services/Lists.ts"
import { BINARY_B64, jsonBytes, memoryLayer, Raw, redisLayer, uniqueKey } from "./collections.ts"
import { runContract } from "./layers.ts"

/** Every page of hgetall, following cursors to the end. */
const allPages = (key: string, limit?: number) =>
  Effect.gen(function* () {
    const h = yield* Hashes
    const pages = []
    let cursor: string | undefined
    do {
      const page = yield* h.hgetall(key, { cursor, limit })
      pages.push(page)
      cursor = page.cursor
      assert.strictEqual(page.truncated, cursor !== undefined)
    } while (cursor !== undefined && pages.length < 100)
    return pages
  })

runContract("Hashes contract", memoryLayer, redisLayer, (it, target) => {
  it.effect("hset creates, updates and counts new fields; hget reads them", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("h")
      assert.deepStrictEqual(yield* h.hset(key, { name: "Ada", role: "eng" }), { added: 2 })
      assert.deepStrictEqual(yield* h.hset(key, { role: "lead", team: "core" }), { added: 1 })
      assert.deepStrictEqual(yield* h.hget(key, "role"), {
        found: true,
        value: "lead",
        encoding: "utf8",
        length: 4,
        truncated: false
      })
      assert.deepStrictEqual(yield* h.hget(key, "nope"), {
        found: false,
        value: null,
        encoding: "utf8",
        length: 0,
        truncated: false
      })
      assert.deepStrictEqual(yield* h.hget(uniqueKey("missing"), "f"), {
        found: false,
        value: null,
        encoding: "utf8",
        length: 0,
        truncated: false
      })
      const [page] = yield* allPages(key)
      assert.deepStrictEqual(
        [...page!.items].sort((a, b) => a.field.localeCompare(b.field)),
        [
          { field: "name", fieldEncoding: "utf8", value: "Ada", encoding: "utf8" },
          { field: "role", fieldEncoding: "utf8", value: "lead", encoding: "utf8" },
          { field: "team", fieldEncoding: "utf8", value: "core", encoding: "utf8" }
        ]
      )
    })
  )

  it.effect("hgetall of a missing key is an empty page", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* (yield* Hashes).hgetall(uniqueKey("missing")), { items: [], truncated: false })
    })
  )

  it.effect("hdel counts removed fields and the emptied hash disappears", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("h")
      yield* h.hset(key, { a: "1", b: "2" })
      assert.deepStrictEqual(yield* h.hdel(key, ["a", "zz"]), { deleted: 1 })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -1)
      assert.deepStrictEqual(yield* h.hdel(key, ["b"]), { deleted: 1 })
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
      assert.deepStrictEqual(yield* h.hdel(key, ["b"]), { deleted: 0 })
    })
  )

  it.effect("hincrby starts at 0, adds and subtracts, and refuses non-integers and overflow", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("h")
      assert.deepStrictEqual(yield* h.hincrby(key, "n", 5), { value: 5 })
      assert.deepStrictEqual(yield* h.hincrby(key, "n", -7), { value: -2 })
      assert.deepStrictEqual(yield* h.hget(key, "n"), {
        found: true,
        value: "-2",
        encoding: "utf8",
        length: 2,
        truncated: false
      })
      yield* h.hset(key, { text: "hello", big: "9223372036854775800" })
      const notInt = yield* Effect.flip(h.hincrby(key, "text", 1))
      assert.strictEqual(notInt._tag, "InvalidArgument")
      assert.match(notInt.message, /not hold an integer/)
      const overflow = yield* Effect.flip(h.hincrby(key, "big", 100))
      assert.strictEqual(overflow._tag, "InvalidArgument")
      assert.match(overflow.message, /overflow/)
    })
  )

  it.effect("binary values round-trip as base64", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("h")
      yield* h.hset(key, { bin: BINARY_B64 }, { encoding: "base64" })
      yield* h.hset(key, { text: "aGk=" }, { encoding: "base64" })
      assert.deepStrictEqual(yield* h.hget(key, "bin"), {
        found: true,
        value: BINARY_B64,
        encoding: "base64",
        length: 4,
        truncated: false
      })
      assert.deepStrictEqual(yield* h.hget(key, "text"), {
        found: true,
        value: "hi",
        encoding: "utf8",
        length: 2,
        truncated: false
      })
      const bad = yield* Effect.flip(h.hset(key, { x: "not base64!" }, { encoding: "base64" }))
      assert.strictEqual(bad._tag, "InvalidArgument")
    })
  )

  it.effect("WrongType names the key's actual type, and a refused write sets no TTL", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const raw = yield* Raw
      const str = uniqueKey("str")
      yield* raw.setString(str, "plain")
      const e1 = yield* Effect.flip(h.hset(str, { f: "v" }, { ttlSeconds: 100 }))
      assert.strictEqual(e1._tag, "WrongType")
      assert.strictEqual(e1._tag === "WrongType" && e1.actualType, "string")
      assert.match(e1.message, /get\/set/)
      assert.strictEqual(yield* raw.pttl(str), -1)
      const list = uniqueKey("list")
      yield* (yield* Lists).push("right", list, ["x"])
      const attempts: ReadonlyArray<Effect.Effect<unknown, CollectionError>> = [
        h.hget(list, "f"),
        h.hgetall(list),
        h.hdel(list, ["f"]),
        h.hincrby(list, "f", 1)
      ]
      for (const attempt of attempts) {
        const e = yield* Effect.flip(attempt)
        assert.strictEqual(e._tag, "WrongType")
        assert.strictEqual(e._tag === "WrongType" && e.actualType, "list")
      }
    })
  )

  it.effect("oversize writes fail with TooLarge before anything is written", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("h")
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, "v"]))
      assert.strictEqual((yield* Effect.flip(h.hset(key, eleven)))._tag, "TooLarge")
      assert.strictEqual(
        (yield* Effect.flip(h.hset(key, { a: "x".repeat(1500), b: "y".repeat(1500) })))._tag,
        "TooLarge"
      )
      assert.strictEqual((yield* Effect.flip(h.hdel(key, Object.keys(eleven))))._tag, "TooLarge")
      assert.strictEqual(yield* (yield* Raw).pttl(key), -2)
    })
  )

  it.effect("hgetall pages through a big hash with cursors, each page within the caps", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("big")
      for (let batch = 0; batch < 15; batch++) {
        yield* h.hset(
          key,
          Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`field-${batch * 10 + i}`, `v${batch * 10 + i}`]))
        )
      }
      const pages = yield* allPages(key)
      const fields = pages.flatMap((p) => p.items.map((i) => i.field))
      assert.strictEqual(new Set(fields).size, 150)
      assert.strictEqual(fields.length, 150)
      assert.isAbove(pages.length, 14)
      for (const p of pages) assert.isAtMost(p.items.length, 10)
      const small = yield* allPages(key, 4)
      assert.strictEqual(new Set(small.flatMap((p) => p.items.map((i) => i.field))).size, 150)
      for (const p of small) assert.isAtMost(p.items.length, 4)
    })
  )

  it.effect("hgetall keeps pages under the byte cap, and a lone oversize value comes back cut", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("bytes")
      for (let i = 0; i < 5; i++) yield* h.hset(key, { [`f${i}`]: String(i).repeat(1000) })
      const pages = yield* allPages(key)
      assert.isAbove(pages.length, 1)
      for (const p of pages) assert.isAtMost(jsonBytes(p), 4096)
      assert.strictEqual(pages.flatMap((p) => p.items).length, 5)

      const huge = uniqueKey("huge")
      yield* (yield* Raw).hsetBytes(huge, "f", Buffer.from("z".repeat(10_000)))
      const got = yield* h.hget(huge, "f")
      assert.isTrue(got.truncated)
      assert.strictEqual(got.length, 10_000)
      assert.isAtMost(jsonBytes(got), 4096)
      const [page] = yield* allPages(huge)
      assert.strictEqual(page!.items[0]!.truncated, true)
      assert.isAtMost(jsonBytes(page), 4096)
    })
  )

  it.effect("a cursor that no page returned is an InvalidArgument", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip((yield* Hashes).hgetall(uniqueKey("h"), { cursor: "not-a-cursor" }))
      assert.strictEqual(e._tag, "InvalidArgument")
    })
  )

  it.effect("ttlSeconds expires the hash; a later hset without it keeps the TTL", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const raw = yield* Raw
      const key = uniqueKey("ttl")
      yield* h.hset(key, { a: "1" }, { ttlSeconds: 1 })
      const ttl = yield* raw.pttl(key)
      assert.isTrue(ttl > 0 && ttl <= 1000)
      yield* h.hset(key, { b: "2" })
      assert.isAbove(yield* raw.pttl(key), 0)
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* h.hget(key, "a"), {
        found: false,
        value: null,
        encoding: "utf8",
        length: 0,
        truncated: false
      })
      assert.strictEqual(yield* raw.pttl(key), -2)
    })
  )
})
