/**
 * Bounded reads of the collections (issue 9 item 1): big, escaped, binary and
 * over-the-cap values written behind the services' backs, read back page by page.
 * Every page stays under the item and byte caps, following the cursors (and, for
 * a cut hash value, `hget` with `offset`) gives back exactly what was stored, and
 * on Redis no page costs Redis more than about one page of replies: values are
 * chosen before they are sent.
 */
import { randomBytes } from "node:crypto"
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import type { Item } from "../../src/services/Collection.ts"
import { Hashes } from "../../src/services/Hashes.ts"
import { Lists } from "../../src/services/Lists.ts"
import { Sets } from "../../src/services/Sets.ts"
import { SortedSets } from "../../src/services/SortedSets.ts"
import { jsonBytes, memoryLayer, Raw, redisLayer, uniqueKey } from "./collections.ts"
import { runContract, sentFor } from "./layers.ts"

/** The output cap of these suites (collections.ts) and what Redis may send beyond it for framing. */
const CAP = 4096
const SLACK = 1024

/** Values of every kind that makes JSON bigger than bytes, some alone over the cap. */
const values = (): Array<Buffer> => [
  Buffer.from("a".repeat(40)),
  Buffer.from("b".repeat(1500)),
  Buffer.from("é".repeat(700)),
  Buffer.alloc(900, 1),
  Buffer.from('"\\'.repeat(400)),
  randomBytes(1200),
  Buffer.from("c".repeat(9000)),
  Buffer.alloc(5000, 10),
  randomBytes(7000),
  Buffer.from(""),
  ...Array.from({ length: 12 }, (_, i) => Buffer.from(`${i}:`.repeat(60)))
]

const bytesOf = (item: Item): Buffer => Buffer.from(item.value, item.encoding === "base64" ? "base64" : "utf8")

/** A page's invariants: item and byte caps here, and about one page's worth sent by Redis. */
const checkPage = (page: { readonly items: ReadonlyArray<unknown> }, sent: number) => {
  assert.isAtMost(page.items.length, 10)
  assert.isAtMost(jsonBytes(page), CAP)
  assert.isAtMost(sent, CAP + SLACK, "Redis sent more than one page")
}

/** A cut item: a prefix of a stored value, with that value's length. */
const checkCut = (item: Item, stored: ReadonlyArray<Buffer>) => {
  assert.isTrue(item.truncated)
  const part = bytesOf(item)
  assert.isTrue(
    stored.some((v) => v.length === item.length && v.subarray(0, part.length).equals(part)),
    "a cut value is the start of a stored value"
  )
}

runContract("Bounded collection reads", memoryLayer, redisLayer, (it) => {
  it.effect("hgetall reads every field under the caps; a cut value goes on with hget offset", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const raw = yield* Raw
      const key = uniqueKey("hb")
      const stored = new Map(values().map((v, i) => [`f${i}`, v] as const))
      for (const [f, v] of stored) yield* raw.hsetBytes(key, f, v)
      const got = new Map<string, Buffer>()
      let cursor: string | undefined
      for (let n = 0; n < 100; n++) {
        const { result: page, bytes } = yield* sentFor(h.hgetall(key, { cursor }))
        checkPage(page, bytes)
        for (const item of page.items) {
          let value = bytesOf(item)
          if (item.truncated) {
            assert.strictEqual(item.offset, value.length)
            // The rest, part by part, each within the cap.
            while (value.length < item.length!) {
              const { result: part, bytes } = yield* sentFor(h.hget(key, item.field, { offset: value.length }))
              assert.isAtMost(jsonBytes(part), CAP)
              assert.isAtMost(bytes, CAP + SLACK)
              assert.strictEqual(part.length, item.length)
              value = Buffer.concat([value, bytesOf(part as Item)])
              if (!part.truncated) break
              assert.strictEqual(part.offset, value.length)
            }
          }
          got.set(item.field, value)
        }
        if (!page.truncated) break
        cursor = page.cursor
      }
      assert.deepStrictEqual(new Map([...got].sort()), new Map([...stored].sort()))
    })
  )

  it.effect("hget reads a byte range of a field with offset and length", () =>
    Effect.gen(function* () {
      const h = yield* Hashes
      const key = uniqueKey("hr")
      yield* h.hset(key, { f: "0123456789" })
      assert.deepStrictEqual(yield* h.hget(key, "f", { offset: 2, length: 3 }), {
        found: true,
        value: "234",
        encoding: "utf8",
        length: 10,
        truncated: true,
        offset: 5
      })
      assert.deepStrictEqual(yield* h.hget(key, "f", { offset: 8 }), {
        found: true,
        value: "89",
        encoding: "utf8",
        length: 10,
        truncated: false
      })
      assert.deepStrictEqual(yield* h.hget(key, "f", { offset: 50 }), {
        found: true,
        value: "",
        encoding: "utf8",
        length: 10,
        truncated: false
      })
      assert.strictEqual((yield* Effect.flip(h.hget(key, "f", { offset: -1 })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(h.hget(key, "f", { length: 0 })))._tag, "InvalidArgument")
    })
  )

  it.effect("smembers reads every member under the caps; an oversize member comes back cut", () =>
    Effect.gen(function* () {
      const s = yield* Sets
      const raw = yield* Raw
      const key = uniqueKey("sb")
      const stored = values()
      for (const v of stored) yield* raw.saddBytes(key, v)
      const whole: Array<string> = []
      const cut: Array<Item> = []
      let cursor: string | undefined
      for (let n = 0; n < 100; n++) {
        const { result: page, bytes } = yield* sentFor(s.smembers(key, { cursor }))
        checkPage(page, bytes)
        for (const item of page.items) {
          if (item.truncated) cut.push(item)
          else whole.push(bytesOf(item).toString("hex"))
        }
        if (!page.truncated) break
        cursor = page.cursor
      }
      // Every member comes once: whole, or cut (then it is the start of a member not seen whole).
      const notWhole = stored.filter((v) => !whole.includes(v.toString("hex")))
      assert.strictEqual(new Set(whole).size, whole.length)
      assert.strictEqual(whole.length + cut.length, stored.length)
      for (const item of cut) checkCut(item, notWhole)
      assert.isAtLeast(cut.length, 3)
    })
  )

  it.effect("lrange reads the whole list in order under the caps; an oversize value comes back cut", () =>
    Effect.gen(function* () {
      const l = yield* Lists
      const raw = yield* Raw
      const key = uniqueKey("lb")
      const stored = values()
      for (const v of stored) yield* raw.rpushBytes(key, v)
      const seen: Array<Item> = []
      let cursor: string | undefined
      for (let n = 0; n < 100; n++) {
        const { result: page, bytes } = yield* sentFor(l.range(key, 0, -1, cursor))
        checkPage(page, bytes)
        assert.strictEqual(page.length, stored.length)
        seen.push(...page.items)
        if (!page.truncated) break
        cursor = page.cursor
      }
      assert.strictEqual(seen.length, stored.length)
      seen.forEach((item, i) => {
        if (item.truncated) checkCut(item, [stored[i]!])
        else assert.isTrue(bytesOf(item).equals(stored[i]!))
      })
      assert.isTrue(seen.some((i) => i.truncated))
    })
  )

  it.effect("zrange by index and by score reads every member in order under the caps", () =>
    Effect.gen(function* () {
      const z = yield* SortedSets
      const raw = yield* Raw
      const key = uniqueKey("zb")
      const stored = values().map((v, i) => Buffer.concat([Buffer.from(String.fromCharCode(65 + i)), v]))
      for (const [i, v] of stored.entries()) yield* raw.zaddBytes(key, i, v)
      for (const by of ["index", "score"] as const) {
        const seen: Array<Item & { readonly score?: unknown }> = []
        let cursor: string | undefined
        for (let n = 0; n < 100; n++) {
          const query =
            by === "index"
              ? { by, start: 0, stop: -1, withScores: true, cursor }
              : { by, start: "-inf", stop: "+inf", withScores: true, cursor }
          const { result: page, bytes } = yield* sentFor(z.zrange(key, query))
          checkPage(page, bytes)
          seen.push(...page.items)
          if (!page.truncated) break
          cursor = page.cursor
        }
        assert.strictEqual(seen.length, stored.length)
        seen.forEach((item, i) => {
          assert.strictEqual(item.score, i)
          if (item.truncated) checkCut(item, [stored[i]!])
          else assert.isTrue(bytesOf(item).equals(stored[i]!))
        })
      }
    })
  )
})
