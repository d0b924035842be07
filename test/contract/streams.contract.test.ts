/**
 * The Streams service, one suite on the in-memory layer (TestClock) and on a
 * real redis-server: every operation, its argument checks, WrongType, and the
 * worked agent flow (producer, two consumers, one dies, the other recovers).
 */
import { assert } from "@effect/vitest"
import { Context, Effect, Fiber, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { type StreamEntry, Streams } from "../../src/services/Streams.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

/** Lets the suite put a non-stream value at a key on either backend. */
class Seed extends Context.Service<Seed, { readonly setString: (key: string) => Effect.Effect<void> }>()("test/Seed") {}

const seedMemory = Layer.effect(
  Seed,
  Effect.map(MemoryStore, (store) =>
    Seed.of({ setString: (key) => store.put(key, { type: "string", expiresAt: null, value: Buffer.from("x") }) })
  )
)
const seedRedis = Layer.effect(
  Seed,
  Effect.map(RedisClient, (redis) =>
    Seed.of({ setString: (key) => redis.run("SET", (c) => c.set(key, "x")).pipe(Effect.orDie, Effect.asVoid) })
  )
)

// Command timeout 1200 ms caps blockMs at 700 ms; a small output cap and item limit make truncation testable.
const env = { REDIS_COMMAND_TIMEOUT_MS: "1200", REDIS_MCP_MAX_OUTPUT_BYTES: "16384", REDIS_MCP_MAX_ITEMS: "50" }
const MAX_BLOCK = 700

let n = 0
const unique = (name: string) => `st:${Math.random().toString(36).slice(2, 8)}:${name}:${n++}`

const errorTag = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (e) => e._tag)

const ids = (entries: ReadonlyArray<{ readonly id: string }>) => entries.map((e) => e.id)

runContract(
  "Streams contract",
  onMemory(Layer.mergeAll(Streams.layerMemory, seedMemory).pipe(Layer.provide(MemoryStore.layer)), env),
  onRedis(Layer.mergeAll(Streams.layer, seedRedis), env),
  (it, target) => {
    const add = (key: string, fields: Record<string, string>, id?: string) =>
      Effect.flatMap(Streams, (s) => s.xadd(id === undefined ? { key, fields } : { key, fields, id }))
    const addMany = (key: string, count: number) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) => Effect.map(add(key, { n: String(i) }), (r) => r.id)
      )

    it.effect("xadd appends with growing ids; xlen counts; xrange reads them back in order", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("basic")
        const a = yield* add(key, { type: "created", orderId: "42" })
        const b = yield* add(key, { type: "paid" })
        assert.match(a.id, /^\d+-\d+$/)
        const [am, as] = a.id.split("-").map(BigInt)
        const [bm, bs] = b.id.split("-").map(BigInt)
        assert.isTrue(bm! > am! || (bm === am && bs! > as!))
        assert.deepStrictEqual(yield* s.xlen(key), { length: 2 })
        assert.deepStrictEqual(yield* s.xlen(unique("missing")), { length: 0 })
        const r = yield* s.xrange({ key })
        assert.deepStrictEqual(r, {
          entries: [
            { id: a.id, fields: { type: "created", orderId: "42" } },
            { id: b.id, fields: { type: "paid" } }
          ],
          truncated: false
        })
      })
    )

    it.effect("xadd takes explicit ids and <ms>-*, refusing ids that do not grow", () =>
      Effect.gen(function* () {
        const key = unique("explicit")
        assert.strictEqual((yield* add(key, { a: "1" }, "5-1")).id, "5-1")
        assert.strictEqual((yield* add(key, { a: "1" }, "5-*")).id, "5-2")
        assert.strictEqual((yield* add(key, { a: "1" }, "7")).id, "7-0")
        assert.strictEqual((yield* add(key, { a: "1" }, "9-*")).id, "9-0")
        assert.strictEqual(yield* errorTag(add(key, { a: "1" }, "9-0")), "InvalidArgument")
        assert.strictEqual(yield* errorTag(add(key, { a: "1" }, "8-*")), "InvalidArgument")
        assert.strictEqual(yield* errorTag(add(unique("zero"), { a: "1" }, "0-0")), "InvalidArgument")
        assert.strictEqual((yield* add(unique("zeroseq"), { a: "1" }, "0-*")).id, "0-1")
        assert.strictEqual((yield* Streams.use((s) => s.xlen(key))).length, 4)
      })
    )

    it.effect("xadd refuses bad arguments before writing anything", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("bad")
        for (const id of ["abc", "1-2-3", "-1", "$", ">", "+", "18446744073709551616-0"]) {
          assert.strictEqual(yield* errorTag(s.xadd({ key, fields: { a: "1" }, id })), "InvalidArgument", id)
        }
        assert.strictEqual(yield* errorTag(s.xadd({ key, fields: {} })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xadd({ key, fields: { a: "1" }, maxLen: -1 })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xadd({ key, fields: { a: "%%" }, encoding: "base64" })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xadd({ key, fields: { a: "x".repeat(1024 * 1024 + 1) } })), "TooLarge")
        assert.deepStrictEqual(yield* s.xinfo({ key }), { found: false })
      })
    )

    it.effect("values that are not UTF-8 go in and come back base64", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("binary")
        const bytes = Buffer.from([0xff, 0x00, 0xfe]).toString("base64")
        const text = Buffer.from("héllo").toString("base64")
        yield* s.xadd({ key, fields: { blob: bytes, text }, encoding: "base64" })
        const [entry] = (yield* s.xrange({ key })).entries
        assert.deepStrictEqual(entry!.fields, { blob: bytes, text: "héllo" })
        assert.deepStrictEqual(entry!.base64Fields, ["blob"])
      })
    )

    it.effect("xadd maxLen trims: exactly when asked, at least maxLen kept when approximate", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const exact = unique("maxlen")
        yield* addMany(exact, 10)
        yield* s.xadd({ key: exact, fields: { n: "last" }, maxLen: 3, approximate: false })
        const kept = yield* s.xrange({ key: exact })
        assert.deepStrictEqual(
          kept.entries.map((e) => e.fields.n),
          ["8", "9", "last"]
        )
        const approx = unique("approx")
        yield* addMany(approx, 10)
        yield* s.xadd({ key: approx, fields: { n: "last" }, maxLen: 3 })
        const len = (yield* s.xlen(approx)).length
        assert.isTrue(len >= 3 && len <= 11)
      })
    )

    it.effect("xrange: bounds, exclusive bounds, reverse, and pages that continue from the cursor", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("range")
        const all = yield* addMany(key, 7)
        assert.deepStrictEqual(ids((yield* s.xrange({ key, start: all[2]!, end: all[4]! })).entries), all.slice(2, 5))
        assert.deepStrictEqual(ids((yield* s.xrange({ key, start: `(${all[2]!}` })).entries), all.slice(3))
        assert.deepStrictEqual(ids((yield* s.xrange({ key, end: `(${all[2]!}` })).entries), all.slice(0, 2))
        assert.deepStrictEqual(ids((yield* s.xrange({ key, reverse: true, count: 2 })).entries), [all[6]!, all[5]!])
        assert.deepStrictEqual((yield* s.xrange({ key, start: all[4]!, end: all[2]! })).entries, [])
        assert.deepStrictEqual(yield* s.xrange({ key: unique("none") }), { entries: [], truncated: false })

        const forward: Array<string> = []
        let page = yield* s.xrange({ key, count: 3 })
        forward.push(...ids(page.entries))
        while (page.truncated) {
          page = yield* s.xrange({ key, count: 3, start: page.cursor! })
          forward.push(...ids(page.entries))
        }
        assert.deepStrictEqual(forward, all)

        const backward: Array<string> = []
        page = yield* s.xrange({ key, count: 3, reverse: true })
        backward.push(...ids(page.entries))
        while (page.truncated) {
          page = yield* s.xrange({ key, count: 3, reverse: true, end: page.cursor! })
          backward.push(...ids(page.entries))
        }
        assert.deepStrictEqual(backward, [...all].reverse())
      })
    )

    it.effect("xrange refuses bad bounds and counts", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("rangebad")
        for (const start of ["abc", "(-", "$", "(18446744073709551615-18446744073709551615"]) {
          assert.strictEqual(yield* errorTag(s.xrange({ key, start })), "InvalidArgument", start)
        }
        assert.strictEqual(yield* errorTag(s.xrange({ key, end: "(0-0" })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xrange({ key, count: 0 })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xrange({ key, count: -5 })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xrange({ key, count: 1.5 })), "InvalidArgument")
      })
    )

    it.effect("results are capped by the item limit and by output bytes, with a cursor to go on", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const many = unique("items")
        yield* addMany(many, 60)
        const first = yield* s.xrange({ key: many, count: 1000 })
        assert.strictEqual(first.entries.length, 50)
        assert.isTrue(first.truncated)
        const rest = yield* s.xrange({ key: many, start: first.cursor! })
        assert.strictEqual(rest.entries.length, 10)
        assert.isFalse(rest.truncated)

        const big = unique("bytes")
        for (let i = 0; i < 5; i++) yield* add(big, { body: String(i).repeat(4000) })
        const seen: Array<string> = []
        let page = yield* s.xrange({ key: big })
        assert.isTrue(page.truncated)
        assert.isTrue(page.entries.length < 5 && page.entries.length > 0)
        seen.push(...page.entries.map((e) => e.fields.body![0]!))
        while (page.truncated) {
          page = yield* s.xrange({ key: big, start: page.cursor! })
          seen.push(...page.entries.map((e) => e.fields.body![0]!))
        }
        assert.deepStrictEqual(seen, ["0", "1", "2", "3", "4"])

        // xread: the item limit holds across all streams of one call.
        const [r1, r2] = [unique("items1"), unique("items2")]
        yield* addMany(r1, 30)
        yield* addMany(r2, 30)
        const read = yield* s.xread({
          streams: [
            { key: r1, id: "0" },
            { key: r2, id: "0" }
          ],
          count: 40
        })
        assert.deepStrictEqual(
          read.streams.map((x) => [x.entries.length, x.truncated]),
          [
            [30, false],
            [20, true]
          ]
        )

        // xreadgroup and xautoclaim deliver only the entries that fit; call again (xautoclaim: from its cursor) for more.
        yield* s.xgroupCreate({ key: big, group: "g", startId: "0" })
        let delivered = 0
        for (let i = 0; i < 5 && delivered < 5; i++) {
          const got = yield* s.xreadgroup({ key: big, group: "g", consumer: "dead" })
          assert.isTrue(got.entries.length > 0 && got.entries.length < 5)
          delivered += got.entries.length
        }
        assert.strictEqual(delivered, 5)
        const claimedIds: Array<string> = []
        let start = "0-0"
        for (let i = 0; i < 10; i++) {
          const claimed = yield* s.xautoclaim({ key: big, group: "g", consumer: "rescuer", minIdleMs: 0, start })
          assert.isFalse(claimed.truncated)
          assert.isTrue(claimed.entries.length < 5)
          claimedIds.push(...ids(claimed.entries))
          if (claimed.done) break
          start = claimed.cursor
        }
        assert.strictEqual(claimedIds.length, 5)
        const pending = yield* s.xpending({ key: big, group: "g", consumer: "rescuer" })
        assert.strictEqual(pending.entries.length, 5)
      })
    )

    it.effect("xread reads several streams after ids; $ means from now on; lastId continues", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const [k1, k2, k3] = [unique("r1"), unique("r2"), unique("r3")]
        const a = yield* addMany(k1, 3)
        const b = yield* addMany(k2, 2)
        const r = yield* s.xread({
          streams: [
            { key: k1, id: "0" },
            { key: k2, id: "$" },
            { key: k3, id: "0-0" }
          ]
        })
        assert.deepStrictEqual(
          r.streams.map((x) => [x.key, ids(x.entries), x.lastId, x.truncated]),
          [
            [k1, a, a[2]!, false],
            [k2, [], b[1]!, false],
            [k3, [], "0-0", false]
          ]
        )
        const c = yield* add(k2, { n: "new" })
        const next = yield* s.xread({ streams: r.streams.map((x) => ({ key: x.key, id: x.lastId })) })
        assert.deepStrictEqual(
          next.streams.map((x) => ids(x.entries)),
          [[], [c.id], []]
        )
        const capped = yield* s.xread({ streams: [{ key: k1, id: "0" }], count: 2 })
        assert.deepStrictEqual(ids(capped.streams[0]!.entries), a.slice(0, 2))
        assert.isTrue(capped.streams[0]!.truncated)
        assert.strictEqual(capped.streams[0]!.lastId, a[1]!)
      })
    )

    it.effect("xread refuses bad ids, duplicate streams and an empty list", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("readbad")
        for (const id of [">", "+", "-", "*", "x", "(1-0"]) {
          assert.strictEqual(yield* errorTag(s.xread({ streams: [{ key, id }] })), "InvalidArgument", id)
        }
        assert.strictEqual(
          yield* errorTag(
            s.xread({
              streams: [
                { key, id: "0" },
                { key, id: "0" }
              ]
            })
          ),
          "InvalidArgument"
        )
        assert.strictEqual(yield* errorTag(s.xread({ streams: [] })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xread({ streams: [{ key, id: "0" }], blockMs: -1 })), "InvalidArgument")
      })
    )

    it.effect("a blocking xread returns the entry added while it waits", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("block")
        const [last] = yield* addMany(key, 1)
        const reader = yield* Effect.forkChild(s.xread({ streams: [{ key, id: last! }], blockMs: MAX_BLOCK }))
        yield* Effect.yieldNow
        const added = yield* add(key, { n: "wake" })
        const r = yield* Fiber.join(reader)
        assert.deepStrictEqual(ids(r.streams[0]!.entries), [added.id])
        assert.strictEqual(r.streams[0]!.lastId, added.id)
      })
    )

    it.effect("a blocking xread does not hold up other calls, and ends empty after its (capped) wait", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("blockidle")
        const reader = yield* Effect.forkChild(s.xread({ streams: [{ key, id: "$" }], blockMs: 60_000 }))
        yield* Effect.yieldNow
        // Other calls go through while the read waits.
        assert.strictEqual((yield* s.xlen(unique("other"))).length, 0)
        assert.isUndefined(reader.pollUnsafe())
        yield* target.advance(MAX_BLOCK + 100)
        const r = yield* Fiber.join(reader)
        assert.deepStrictEqual(r.streams, [{ key, entries: [], lastId: "0-0", truncated: false }])
      })
    )

    it.effect("more blocking readers than dedicated connections all see the new entry", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("manyblock")
        const [last] = yield* addMany(key, 1)
        // Past the limit of dedicated connections, the Redis layer polls instead.
        const readers = yield* Effect.forEach(Array.from({ length: 10 }), () =>
          Effect.forkChild(s.xread({ streams: [{ key, id: last! }], blockMs: MAX_BLOCK }))
        )
        yield* Effect.yieldNow
        const added = yield* add(key, { n: "all" })
        for (const reader of readers) {
          assert.deepStrictEqual(ids((yield* Fiber.join(reader)).streams[0]!.entries), [added.id])
        }
      })
    )

    it.effect("an interrupted blocking read ends at once", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("interrupt")
        yield* s.xgroupCreate({ key, group: "g" })
        const reader = yield* Effect.forkChild(s.xreadgroup({ key, group: "g", consumer: "c", blockMs: MAX_BLOCK }))
        yield* Effect.yieldNow
        yield* Fiber.interrupt(reader)
        assert.isDefined(reader.pollUnsafe())
        // The group is still usable and nothing was delivered to the interrupted reader.
        const added = yield* add(key, { n: "after" })
        assert.deepStrictEqual(ids((yield* s.xreadgroup({ key, group: "g", consumer: "d" })).entries), [added.id])
      })
    )

    it.effect("xdel deletes by id and counts what existed", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("del")
        const all = yield* addMany(key, 4)
        assert.deepStrictEqual(yield* s.xdel(key, [all[1]!, all[3]!, "999999999999999-0"]), { deleted: 2 })
        assert.deepStrictEqual(yield* s.xdel(key, [all[1]!]), { deleted: 0 })
        assert.deepStrictEqual(ids((yield* s.xrange({ key })).entries), [all[0]!, all[2]!])
        assert.deepStrictEqual(yield* s.xdel(unique("none"), ["1-0"]), { deleted: 0 })
        assert.strictEqual(yield* errorTag(s.xdel(key, [])), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xdel(key, ["-"])), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xdel(key, ["1-x"])), "InvalidArgument")
      })
    )

    it.effect("xtrim by maxLen or minId", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("trim")
        const all = yield* addMany(key, 8)
        assert.deepStrictEqual(yield* s.xtrim({ key, maxLen: 6 }), { deleted: 2 })
        assert.deepStrictEqual(yield* s.xtrim({ key, minId: all[4]! }), { deleted: 2 })
        assert.deepStrictEqual(ids((yield* s.xrange({ key })).entries), all.slice(4))
        const approx = yield* s.xtrim({ key, maxLen: 1, approximate: true })
        assert.isTrue(approx.deleted >= 0 && approx.deleted <= 3)
        assert.deepStrictEqual(yield* s.xtrim({ key: unique("none"), maxLen: 0 }), { deleted: 0 })
        assert.strictEqual(yield* errorTag(s.xtrim({ key })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xtrim({ key, maxLen: 1, minId: "1-0" })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xtrim({ key, maxLen: -1 })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xtrim({ key, minId: "+" })), "InvalidArgument")
      })
    )

    it.effect("xgroup_create: created once, then created:false; mkstream; startId 0 or $", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("group")
        const old = yield* addMany(key, 2)
        assert.deepStrictEqual(yield* s.xgroupCreate({ key, group: "all", startId: "0" }), { created: true })
        assert.deepStrictEqual(yield* s.xgroupCreate({ key, group: "all", startId: "0" }), { created: false })
        assert.deepStrictEqual(yield* s.xgroupCreate({ key, group: "new" }), { created: true })
        const fresh = yield* add(key, { n: "fresh" })
        const fromStart = yield* s.xreadgroup({ key, group: "all", consumer: "c" })
        assert.deepStrictEqual(ids(fromStart.entries), [...old, fresh.id])
        const fromNow = yield* s.xreadgroup({ key, group: "new", consumer: "c" })
        assert.deepStrictEqual(ids(fromNow.entries), [fresh.id])

        const missing = unique("nostream")
        assert.strictEqual(yield* errorTag(s.xgroupCreate({ key: missing, group: "g", mkstream: false })), "NotFound")
        assert.deepStrictEqual(yield* s.xgroupCreate({ key: missing, group: "g" }), { created: true })
        assert.deepStrictEqual(yield* s.xlen(missing), { length: 0 })
        assert.strictEqual(yield* errorTag(s.xgroupCreate({ key, group: "x", startId: ">" })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xgroupCreate({ key, group: "" })), "InvalidArgument")
      })
    )

    it.effect("xreadgroup shares entries between consumers; id 0 re-reads your own pending entries", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("rg")
        yield* s.xgroupCreate({ key, group: "g" })
        const all = yield* addMany(key, 5)
        const a = yield* s.xreadgroup({ key, group: "g", consumer: "a", count: 2 })
        const b = yield* s.xreadgroup({ key, group: "g", consumer: "b", count: 10 })
        assert.deepStrictEqual(ids(a.entries), all.slice(0, 2))
        assert.deepStrictEqual(ids(b.entries), all.slice(2))
        assert.deepStrictEqual((yield* s.xreadgroup({ key, group: "g", consumer: "a" })).entries, [])

        const again = yield* s.xreadgroup({ key, group: "g", consumer: "a", id: "0" })
        assert.deepStrictEqual(ids(again.entries), all.slice(0, 2))
        assert.deepStrictEqual(again.entries[0]!.fields, { n: "0" })
        const after = yield* s.xreadgroup({ key, group: "g", consumer: "a", id: all[0]! })
        assert.deepStrictEqual(ids(after.entries), [all[1]!])
        const capped = yield* s.xreadgroup({ key, group: "g", consumer: "b", id: "0", count: 2 })
        assert.isTrue(capped.truncated)
        const rest = yield* s.xreadgroup({ key, group: "g", consumer: "b", id: capped.cursor! })
        assert.deepStrictEqual(ids(rest.entries), [all[4]!])

        const p = yield* s.xpending({ key, group: "g", consumer: "a" })
        assert.deepStrictEqual(
          p.entries.map((e) => [e.id, e.deliveries]),
          [
            [all[0]!, 2],
            [all[1]!, 3]
          ]
        )

        yield* s.xdel(key, [all[2]!])
        const withDeleted = yield* s.xreadgroup({ key, group: "g", consumer: "b", id: "0" })
        assert.deepStrictEqual(withDeleted.entries[0], { id: all[2]!, fields: {}, deleted: true })
      })
    )

    it.effect("xreadgroup: NotFound without the group; noAck leaves nothing pending; bad ids refused", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("rgbad")
        yield* addMany(key, 2)
        assert.strictEqual(yield* errorTag(s.xreadgroup({ key, group: "nope", consumer: "c" })), "NotFound")
        assert.strictEqual(
          yield* errorTag(s.xreadgroup({ key: unique("none"), group: "g", consumer: "c" })),
          "NotFound"
        )
        yield* s.xgroupCreate({ key, group: "g", startId: "0" })
        const r = yield* s.xreadgroup({ key, group: "g", consumer: "c", noAck: true })
        assert.strictEqual(r.entries.length, 2)
        assert.strictEqual((yield* s.xpending({ key, group: "g" })).pending, 0)
        for (const id of ["$", "+", "-", "x"]) {
          assert.strictEqual(yield* errorTag(s.xreadgroup({ key, group: "g", consumer: "c", id })), "InvalidArgument")
        }
        assert.strictEqual(yield* errorTag(s.xreadgroup({ key, group: "g", consumer: "" })), "InvalidArgument")
        assert.strictEqual(
          yield* errorTag(s.xreadgroup({ key, group: "g", consumer: "c", count: 0 })),
          "InvalidArgument"
        )
      })
    )

    it.effect("a blocking xreadgroup takes the entry added while it waits", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("rgblock")
        yield* s.xgroupCreate({ key, group: "g" })
        const reader = yield* Effect.forkChild(
          s.xreadgroup({ key, group: "g", consumer: "waiter", blockMs: MAX_BLOCK })
        )
        yield* Effect.yieldNow
        const added = yield* add(key, { n: "job" })
        const r = yield* Fiber.join(reader)
        assert.deepStrictEqual(ids(r.entries), [added.id])
        assert.strictEqual((yield* s.xpending({ key, group: "g", consumer: "waiter" })).pending, 1)
      })
    )

    it.effect("xack removes entries from the pending list, once", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("ack")
        yield* s.xgroupCreate({ key, group: "g" })
        const all = yield* addMany(key, 3)
        yield* s.xreadgroup({ key, group: "g", consumer: "c" })
        assert.deepStrictEqual(yield* s.xack(key, "g", [all[0]!, all[1]!]), { acked: 2 })
        assert.deepStrictEqual(yield* s.xack(key, "g", [all[0]!, all[2]!]), { acked: 1 })
        assert.deepStrictEqual(yield* s.xack(key, "nogroup", [all[0]!]), { acked: 0 })
        assert.deepStrictEqual(yield* s.xack(unique("none"), "g", ["1-0"]), { acked: 0 })
        assert.strictEqual((yield* s.xpending({ key, group: "g" })).pending, 0)
        assert.strictEqual(yield* errorTag(s.xack(key, "g", [])), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xack(key, "g", ["oops"])), "InvalidArgument")
      })
    )

    it.effect("xpending: summary, entries with idle time and deliveries, filters, pages", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("pending")
        yield* s.xgroupCreate({ key, group: "g" })
        const all = yield* addMany(key, 5)
        yield* s.xreadgroup({ key, group: "g", consumer: "alice", count: 2 })
        yield* target.advance(150)
        yield* s.xreadgroup({ key, group: "g", consumer: "bob" })

        const p = yield* s.xpending({ key, group: "g" })
        assert.strictEqual(p.pending, 5)
        assert.strictEqual(p.minId, all[0]!)
        assert.strictEqual(p.maxId, all[4]!)
        assert.deepStrictEqual(p.consumers, [
          { consumer: "alice", pending: 2 },
          { consumer: "bob", pending: 3 }
        ])
        assert.deepStrictEqual(ids(p.entries), all)
        assert.deepStrictEqual(
          p.entries.map((e) => [e.consumer, e.deliveries]),
          [
            ["alice", 1],
            ["alice", 1],
            ["bob", 1],
            ["bob", 1],
            ["bob", 1]
          ]
        )
        assert.isTrue(p.entries[0]!.idleMs >= 150)
        assert.isFalse(p.truncated)

        const idle = yield* s.xpending({ key, group: "g", minIdleMs: 150 })
        assert.deepStrictEqual(ids(idle.entries), all.slice(0, 2))
        assert.strictEqual(idle.pending, 5)
        const bob = yield* s.xpending({ key, group: "g", consumer: "bob", start: `(${all[2]!}` })
        assert.deepStrictEqual(ids(bob.entries), all.slice(3))

        const page = yield* s.xpending({ key, group: "g", count: 2 })
        assert.isTrue(page.truncated)
        const next = yield* s.xpending({ key, group: "g", count: 2, start: page.cursor! })
        assert.deepStrictEqual(ids(next.entries), all.slice(2, 4))

        const emptyGroup = unique("pendingempty")
        yield* s.xgroupCreate({ key: emptyGroup, group: "g" })
        assert.deepStrictEqual(yield* s.xpending({ key: emptyGroup, group: "g" }), {
          pending: 0,
          minId: null,
          maxId: null,
          consumers: [],
          entries: [],
          truncated: false
        })
        assert.strictEqual(yield* errorTag(s.xpending({ key, group: "nope" })), "NotFound")
        assert.strictEqual(yield* errorTag(s.xpending({ key, group: "g", minIdleMs: -1 })), "InvalidArgument")
        assert.strictEqual(yield* errorTag(s.xpending({ key, group: "g", start: "x" })), "InvalidArgument")
      })
    )

    it.effect("xautoclaim takes over idle entries, drops deleted ones, and walks with a cursor", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("claim")
        yield* s.xgroupCreate({ key, group: "g" })
        const all = yield* addMany(key, 6)
        yield* s.xreadgroup({ key, group: "g", consumer: "dead" })

        const early = yield* s.xautoclaim({ key, group: "g", consumer: "rescuer", minIdleMs: 10_000 })
        assert.deepStrictEqual(early, { entries: [], deletedIds: [], cursor: "0-0", done: true, truncated: false })

        yield* target.advance(150)
        yield* s.xdel(key, [all[1]!])
        const first = yield* s.xautoclaim({ key, group: "g", consumer: "rescuer", minIdleMs: 100, count: 3 })
        assert.deepStrictEqual(ids(first.entries), [all[0]!, all[2]!])
        assert.deepStrictEqual(first.deletedIds, [all[1]!])
        assert.strictEqual(first.cursor, all[3]!)
        assert.isFalse(first.done)
        assert.deepStrictEqual(first.entries[0]!.fields, { n: "0" })

        const second = yield* s.xautoclaim({
          key,
          group: "g",
          consumer: "rescuer",
          minIdleMs: 100,
          start: first.cursor,
          count: 10
        })
        assert.deepStrictEqual(ids(second.entries), all.slice(3))
        assert.isTrue(second.done)

        const p = yield* s.xpending({ key, group: "g" })
        assert.deepStrictEqual(p.consumers, [{ consumer: "rescuer", pending: 5 }])
        assert.deepStrictEqual(
          p.entries.map((e) => e.deliveries),
          [2, 2, 2, 2, 2]
        )
        assert.strictEqual(
          yield* errorTag(s.xautoclaim({ key, group: "nope", consumer: "c", minIdleMs: 0 })),
          "NotFound"
        )
        assert.strictEqual(
          yield* errorTag(s.xautoclaim({ key, group: "g", consumer: "c", minIdleMs: -1 })),
          "InvalidArgument"
        )
        assert.strictEqual(
          yield* errorTag(s.xautoclaim({ key, group: "g", consumer: "c", minIdleMs: 0, start: "z" })),
          "InvalidArgument"
        )
      })
    )

    it.effect("xinfo describes the stream, its groups and a group's consumers", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("info")
        assert.deepStrictEqual(yield* s.xinfo({ key }), { found: false })
        const all = yield* addMany(key, 3)
        yield* s.xgroupCreate({ key, group: "g", startId: "0" })
        yield* s.xgroupCreate({ key, group: "h" })
        yield* s.xreadgroup({ key, group: "g", consumer: "c1", count: 2 })
        yield* target.advance(100)
        const info = yield* s.xinfo({ key, group: "g" })
        assert.isTrue(info.found)
        assert.deepStrictEqual(info.stream, {
          length: 3,
          lastGeneratedId: all[2]!,
          entriesAdded: 3,
          groups: 2,
          firstEntry: { id: all[0]!, fields: { n: "0" } },
          lastEntry: { id: all[2]!, fields: { n: "2" } }
        })
        assert.deepStrictEqual(info.groups, [
          { name: "g", consumers: 1, pending: 2, lastDeliveredId: all[1]! },
          { name: "h", consumers: 0, pending: 0, lastDeliveredId: all[2]! }
        ])
        assert.strictEqual(info.consumers!.length, 1)
        assert.strictEqual(info.consumers![0]!.name, "c1")
        assert.strictEqual(info.consumers![0]!.pending, 2)
        assert.isTrue(info.consumers![0]!.idleMs >= 100)
        assert.isUndefined((yield* s.xinfo({ key })).consumers)
        assert.strictEqual(yield* errorTag(s.xinfo({ key, group: "nope" })), "NotFound")

        const emptied = unique("infoempty")
        yield* s.xgroupCreate({ key: emptied, group: "g" })
        const e = yield* s.xinfo({ key: emptied })
        assert.strictEqual(e.stream!.length, 0)
        assert.isNull(e.stream!.firstEntry)
        assert.isNull(e.stream!.lastEntry)
      })
    )

    it.effect("a key of another type fails with WrongType naming it", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("string")
        yield* (yield* Seed).setString(key)
        const attempts = [
          s.xadd({ key, fields: { a: "1" } }),
          s.xrange({ key }),
          s.xread({
            streams: [
              { key: unique("ok"), id: "0" },
              { key, id: "0" }
            ]
          }),
          s.xread({ streams: [{ key, id: "$" }] }),
          s.xlen(key),
          s.xdel(key, ["1-0"]),
          s.xtrim({ key, maxLen: 1 }),
          s.xgroupCreate({ key, group: "g" }),
          s.xreadgroup({ key, group: "g", consumer: "c" }),
          s.xpending({ key, group: "g" }),
          s.xautoclaim({ key, group: "g", consumer: "c", minIdleMs: 0 }),
          s.xinfo({ key })
        ] as const
        for (const [i, attempt] of attempts.entries()) {
          const e = yield* Effect.flip(attempt as Effect.Effect<unknown, { _tag: string }>)
          assert.strictEqual(e._tag, "WrongType", `attempt ${i}`)
          assert.strictEqual((e as unknown as { actualType: string }).actualType, "string", `attempt ${i}`)
        }
      })
    )

    it.effect("worked flow: 100 events, two consumers, one dies, the other recovers; nothing lost or acked twice", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const key = unique("orders")
        const group = "workers"
        assert.deepStrictEqual(yield* s.xgroupCreate({ key, group, startId: "0" }), { created: true })

        // The producer.
        const added = yield* addMany(key, 100)
        assert.strictEqual(new Set(added).size, 100)

        const acked: Array<string> = []
        const ack = (entries: ReadonlyArray<StreamEntry>) =>
          Effect.gen(function* () {
            if (entries.length === 0) return
            const r = yield* s.xack(key, group, ids(entries))
            assert.strictEqual(r.acked, entries.length)
            acked.push(...ids(entries))
          })

        // Both consumers work side by side for a while.
        for (let round = 0; round < 3; round++) {
          yield* ack((yield* s.xreadgroup({ key, group, consumer: "alice", count: 10 })).entries)
          yield* ack((yield* s.xreadgroup({ key, group, consumer: "bob", count: 10 })).entries)
        }
        // Bob takes a batch and dies without acking it.
        const lost = yield* s.xreadgroup({ key, group, consumer: "bob", count: 15 })
        assert.strictEqual(lost.entries.length, 15)
        // Alice drains the rest of the stream.
        while (true) {
          const batch = yield* s.xreadgroup({ key, group, consumer: "alice", count: 10 })
          if (batch.entries.length === 0) break
          yield* ack(batch.entries)
        }
        const stuck = yield* s.xpending({ key, group })
        assert.strictEqual(stuck.pending, 15)
        assert.deepStrictEqual(stuck.consumers, [{ consumer: "bob", pending: 15 }])

        // Once bob's entries have been idle long enough, alice claims and finishes them.
        yield* target.advance(150)
        let cursor = "0-0"
        while (true) {
          const claimed = yield* s.xautoclaim({
            key,
            group,
            consumer: "alice",
            minIdleMs: 100,
            start: cursor,
            count: 4
          })
          assert.deepStrictEqual(claimed.deletedIds, [])
          yield* ack(claimed.entries)
          cursor = claimed.cursor
          if (claimed.done) break
        }

        const end = yield* s.xpending({ key, group })
        assert.strictEqual(end.pending, 0)
        assert.deepStrictEqual(end.entries, [])
        assert.strictEqual(acked.length, 100)
        assert.deepStrictEqual([...acked].sort(), [...added].sort())
        // Acking everything again changes nothing: no entry was left to ack twice.
        assert.deepStrictEqual(yield* s.xack(key, group, added.slice(0, 50)), { acked: 0 })
        assert.deepStrictEqual(yield* s.xack(key, group, added.slice(50)), { acked: 0 })
      })
    )
  }
)

// A key prefix (REDIS_MCP_KEY_PREFIX) is applied to every key and stripped from what comes back.
runContract(
  "Streams contract with a key prefix",
  onMemory(Layer.mergeAll(Streams.layerMemory, seedMemory).pipe(Layer.provide(MemoryStore.layer)), {
    REDIS_MCP_KEY_PREFIX: "app:"
  }),
  onRedis(Layer.mergeAll(Streams.layer, seedRedis), { REDIS_MCP_KEY_PREFIX: "app:" }),
  (it) => {
    it.effect("xread and xreadgroup name streams without the prefix; WrongType still names the type", () =>
      Effect.gen(function* () {
        const s = yield* Streams
        const [k1, k2] = [unique("p1"), unique("p2")]
        const a = yield* s.xadd({ key: k1, fields: { a: "1" } })
        const b = yield* s.xadd({ key: k2, fields: { b: "2" } })
        const r = yield* s.xread({
          streams: [
            { key: k1, id: "0" },
            { key: k2, id: "0" }
          ]
        })
        assert.deepStrictEqual(
          r.streams.map((x) => [x.key, ids(x.entries)]),
          [
            [k1, [a.id]],
            [k2, [b.id]]
          ]
        )
        yield* s.xgroupCreate({ key: k1, group: "g", startId: "0" })
        assert.deepStrictEqual(ids((yield* s.xreadgroup({ key: k1, group: "g", consumer: "c" })).entries), [a.id])
        const claimed = yield* s.xautoclaim({ key: k1, group: "g", consumer: "d", minIdleMs: 0 })
        assert.deepStrictEqual(ids(claimed.entries), [a.id])
        const text = unique("ptext")
        yield* (yield* Seed).setString(text)
        const e = yield* Effect.flip(
          s.xread({
            streams: [
              { key: k1, id: "0" },
              { key: text, id: "0" }
            ]
          })
        )
        assert.strictEqual(e._tag, "WrongType")
        assert.strictEqual((e as unknown as { actualType: string }).actualType, "string")
      })
    )
  }
)
