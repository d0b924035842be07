/**
 * Bounded stream reads (issue 9 item 1): entries of every size, some alone over
 * the output cap, read with xrange, xread, xreadgroup and xautoclaim. Results stay
 * under the cap, following the cursors gives back every entry (an oversize one
 * cut, marked truncated), consumer-group reads deliver only what they return, and
 * on Redis one call costs Redis about one result of replies.
 */
import { randomBytes } from "node:crypto"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { type StreamEntry, Streams } from "../../src/services/Streams.ts"
import { onMemory, onRedis, runContract, sentFor, Traffic } from "./layers.ts"

const CAP = 8192
const SLACK = 1024
const env = { REDIS_MCP_MAX_OUTPUT_BYTES: String(CAP), REDIS_MCP_MAX_VALUE_BYTES: "65536", REDIS_MCP_MAX_ITEMS: "20" }

const memory = onMemory(Layer.mergeAll(Streams.layerMemory, Traffic.memory).pipe(Layer.provide(MemoryStore.layer)), env)
const redis = onRedis(Layer.mergeAll(Streams.layer, Traffic.redis), env)

let n = 0
const unique = (name: string) => `sb:${Math.random().toString(36).slice(2, 8)}:${name}:${n++}`
const jsonBytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x))

/** Entries' field values: small, escaped, binary (sent base64), big, and over the cap. */
const bodies = (): Array<Buffer> => [
  Buffer.from("a".repeat(30)),
  Buffer.from("b".repeat(3000)),
  Buffer.alloc(700, 2),
  randomBytes(2000),
  Buffer.from("c".repeat(20_000)),
  Buffer.from("é".repeat(1500)),
  ...Array.from({ length: 25 }, (_, i) => Buffer.from(`${i};`.repeat(40)))
]

const fill = (key: string) =>
  Effect.gen(function* () {
    const s = yield* Streams
    const stored: Array<{ id: string; body: Buffer }> = []
    for (const body of bodies()) {
      const { id } = yield* s.xadd({ key, fields: { k: "dg==", body: body.toString("base64") }, encoding: "base64" })
      stored.push({ id, body })
    }
    return stored
  })

const bodyOf = (e: StreamEntry) =>
  Buffer.from(e.fields.body ?? "", e.base64Fields?.includes("body") === true ? "base64" : "utf8")

/** An entry read matches the one stored: whole, or (truncated) a prefix of its body. */
const checkEntry = (e: StreamEntry, stored: { id: string; body: Buffer }) => {
  assert.strictEqual(e.id, stored.id)
  if (e.truncated === true) assert.isTrue(stored.body.subarray(0, bodyOf(e).length).equals(bodyOf(e)))
  else assert.isTrue(bodyOf(e).equals(stored.body))
}

const withinCap = (result: unknown, sent: number) => {
  assert.isAtMost(jsonBytes(result), CAP)
  assert.isAtMost(sent, CAP + SLACK, "Redis sent more than one result")
}

runContract("Bounded stream reads", memory, redis, (it) => {
  it.effect("xrange (and reverse) pages every entry under the cap; an oversize entry comes cut", () =>
    Effect.gen(function* () {
      const s = yield* Streams
      const key = unique("range")
      const stored = yield* fill(key)
      for (const reverse of [false, true]) {
        const seen: Array<StreamEntry> = []
        let bound: string | undefined
        for (let page = 0; page < 100; page++) {
          const input = reverse
            ? { key, reverse, ...(bound === undefined ? {} : { end: bound }) }
            : { key, ...(bound === undefined ? {} : { start: bound }) }
          const { result, bytes } = yield* sentFor(s.xrange(input))
          withinCap(result, bytes)
          seen.push(...result.entries)
          if (!result.truncated) break
          bound = result.cursor
        }
        const expected = reverse ? [...stored].reverse() : stored
        assert.strictEqual(seen.length, expected.length)
        for (const [i, e] of seen.entries()) checkEntry(e, expected[i]!)
        // The 20 000-byte body is over the cap alone; smaller ones that escape badly may be cut too.
        assert.isTrue(seen.find((e) => e.id === stored[4]!.id)?.truncated)
        assert.isFalse(seen.find((e) => e.id === stored[1]!.id)?.truncated ?? false)
      }
    })
  )

  it.effect("xread of two streams shares the cap; following lastId reads every entry", () =>
    Effect.gen(function* () {
      const s = yield* Streams
      const [k1, k2] = [unique("read1"), unique("read2")]
      const stored = new Map([
        [k1, yield* fill(k1)],
        [k2, yield* fill(k2)]
      ])
      const seen = new Map<string, Array<StreamEntry>>([
        [k1, []],
        [k2, []]
      ])
      const after = new Map([
        [k1, "0"],
        [k2, "0"]
      ])
      for (let call = 0; call < 200; call++) {
        const streams = [...after].map(([key, id]) => ({ key, id }))
        const { result, bytes } = yield* sentFor(s.xread({ streams }))
        withinCap(result, bytes)
        assert.isAtMost(
          result.streams.reduce((n, x) => n + x.entries.length, 0),
          20
        )
        for (const x of result.streams) {
          seen.get(x.key)!.push(...x.entries)
          after.set(x.key, x.lastId)
        }
        if (result.streams.every((x) => !x.truncated)) break
      }
      for (const [key, entries] of seen) {
        assert.strictEqual(entries.length, stored.get(key)!.length)
        for (const [i, e] of entries.entries()) checkEntry(e, stored.get(key)![i]!)
      }
    })
  )

  it.effect("xreadgroup delivers only what it returns; re-reading pending entries pages the same way", () =>
    Effect.gen(function* () {
      const s = yield* Streams
      const key = unique("group")
      const stored = yield* fill(key)
      yield* s.xgroupCreate({ key, group: "g", startId: "0" })
      const seen: Array<StreamEntry> = []
      for (let call = 0; call < 100; call++) {
        const { result, bytes } = yield* sentFor(s.xreadgroup({ key, group: "g", consumer: "c" }))
        withinCap(result, bytes)
        seen.push(...result.entries)
        const pending = yield* s.xpending({ key, group: "g" })
        assert.strictEqual(pending.pending, seen.length, "only the entries returned are pending")
        if (!result.truncated) break
      }
      assert.strictEqual(seen.length, stored.length)
      for (const [i, e] of seen.entries()) checkEntry(e, stored[i]!)

      const again: Array<StreamEntry> = []
      let id = "0"
      for (let call = 0; call < 100; call++) {
        const { result, bytes } = yield* sentFor(s.xreadgroup({ key, group: "g", consumer: "c", id }))
        withinCap(result, bytes)
        again.push(...result.entries)
        if (!result.truncated) break
        id = result.cursor!
      }
      assert.deepStrictEqual(
        again.map((e) => e.id),
        stored.map((e) => e.id)
      )
      const deliveries = (yield* s.xpending({ key, group: "g", count: 20 })).entries.map((e) => e.deliveries)
      assert.deepStrictEqual(
        deliveries,
        deliveries.map(() => 2)
      )
    })
  )

  it.effect("xautoclaim claims only what it returns; its cursor goes on to the rest", () =>
    Effect.gen(function* () {
      const s = yield* Streams
      const key = unique("claim")
      const stored = yield* fill(key)
      yield* s.xgroupCreate({ key, group: "g", startId: "0" })
      for (let call = 0; call < 100; call++) {
        if (!(yield* s.xreadgroup({ key, group: "g", consumer: "dead", count: 20 })).truncated) break
      }
      const claimed: Array<StreamEntry> = []
      let start = "0-0"
      for (let call = 0; call < 100; call++) {
        const { result, bytes } = yield* sentFor(
          s.xautoclaim({ key, group: "g", consumer: "rescuer", minIdleMs: 0, start })
        )
        withinCap(result, bytes)
        claimed.push(...result.entries)
        const mine = yield* s.xpending({ key, group: "g", consumer: "rescuer", count: 20 })
        assert.strictEqual(mine.pending, stored.length)
        assert.strictEqual(
          mine.consumers.find((c) => c.consumer === "rescuer")?.pending ?? 0,
          claimed.length,
          "only the entries returned were claimed"
        )
        if (result.done) break
        start = result.cursor
      }
      assert.strictEqual(claimed.length, stored.length)
      for (const [i, e] of claimed.entries()) checkEntry(e, stored[i]!)
    })
  )
})
