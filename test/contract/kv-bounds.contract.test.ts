/**
 * Bounded key reads (issue 9 items 1 and 18): `mget` decides what fits before it
 * fetches (one copy per key, values in order while they fit, the rest in
 * `remaining`, a value too big for any result as its first part with `offset`),
 * and `scan` pages hold at most `limit` keys without losing any.
 */
import { randomBytes } from "node:crypto"
import { assert } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import type { Redis } from "ioredis"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Kv } from "../../src/services/Kv.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import * as KeyTools from "../../src/tools/keys.ts"
import { onMemory, onRedis, runContract, sentFor, Traffic } from "./layers.ts"

const CAP = 4096
/** Redis framing around the values of one reply. */
const SLACK = 1024
const env = { REDIS_MCP_MAX_OUTPUT_BYTES: String(CAP), REDIS_MCP_MAX_VALUE_BYTES: "65536", REDIS_MCP_KEY_PREFIX: "b:" }

/** Writes past the service, as another client would: a list at `key`. */
class OtherClient extends Context.Service<OtherClient, { readonly rpush: (key: string) => Effect.Effect<void> }>()(
  "test/OtherClient"
) {
  static readonly memory = Layer.effect(
    OtherClient,
    Effect.map(MemoryStore, (store) => ({
      rpush: (key: string) => store.put(key, { type: "list", expiresAt: null, value: [Buffer.from("x")] })
    }))
  )
  static readonly redis = Layer.effect(
    OtherClient,
    Effect.map(RedisClient, (redis) => ({
      rpush: (key: string) => Effect.asVoid(Effect.promise(() => (redis.unsafeClient as Redis).rpush(key, "x")))
    }))
  )
}

const memory = onMemory(
  Layer.mergeAll(Kv.layerMemory, Traffic.memory, OtherClient.memory).pipe(Layer.provide(MemoryStore.layer)),
  env
)
const redis = onRedis(Layer.mergeAll(Kv.layer, Traffic.redis, OtherClient.redis), env)

const uid = () => Math.random().toString(36).slice(2, 10)
const jsonBytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x))
const decode = (value: string, encoding: string) => Buffer.from(value, encoding === "base64" ? "base64" : "utf8")

/** Read a value's rest with get, from `offset`, each part within the cap. */
const readRest = (kv: Kv["Service"], key: string, offset: number) =>
  Effect.gen(function* () {
    const parts: Array<Buffer> = []
    let at = offset
    for (let i = 0; i < 1000; i++) {
      const r = yield* kv.get(key, { offset: at })
      assert.isAtMost(jsonBytes(r), CAP)
      parts.push(decode(r.value!, r.encoding))
      if (!r.truncated) return Buffer.concat(parts)
      at = r.offset!
    }
    return assert.fail("get never reached the end")
  })

runContract("Bounded key reads", memory, redis, (it) => {
  it.effect("mget of one key named 1000 times reads it once", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `dup:${uid()}`
      yield* kv.set(key, "x".repeat(3000))
      const { result, bytes } = yield* sentFor(kv.mget(Array.from({ length: 1000 }, () => key)))
      assert.deepStrictEqual(result.values.length, 1)
      assert.strictEqual(result.values[0]!.value, "x".repeat(3000))
      assert.isFalse(result.truncated)
      assert.isAtMost(jsonBytes(result), CAP)
      assert.isAtMost(bytes, CAP + SLACK)
    })
  )

  it.effect("mget stops at the cap; following remaining and offset reads every value back", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      const stored = new Map<string, Buffer>()
      const put = (name: string, bytes: Buffer) =>
        Effect.gen(function* () {
          stored.set(`${p}:${name}`, bytes)
          yield* kv.set(`${p}:${name}`, bytes.toString("base64"), { encoding: "base64" })
        })
      for (let i = 0; i < 12; i++) yield* put(`v${i}`, Buffer.from(String(i % 10).repeat(700)))
      yield* put("empty", Buffer.alloc(0))
      yield* put("escaped", Buffer.alloc(900, 1))
      yield* put("binary", randomBytes(1500))
      yield* put("huge", Buffer.from("h".repeat(20_000)))
      yield* put("utf8", Buffer.from("ü".repeat(1000)))
      const missing = [`${p}:missing`]
      let keys = [...missing, ...stored.keys()].sort(() => Math.random() - 0.5)
      const got = new Map<string, Buffer>()
      for (let call = 0; keys.length > 0; call++) {
        assert.isBelow(call, 50, "mget made no progress")
        const { result, bytes } = yield* sentFor(kv.mget(keys))
        assert.isAtMost(jsonBytes(result), CAP)
        assert.isAtMost(bytes, CAP + SLACK)
        assert.strictEqual(
          result.truncated,
          result.values.some((v) => v.truncated === true)
        )
        assert.deepStrictEqual(
          result.values.map((v) => v.key),
          keys
        )
        for (const v of result.values) {
          if (!v.found) {
            assert.include(missing, v.key)
            continue
          }
          if (v.value === null) {
            assert.isTrue(v.truncated)
            assert.strictEqual(v.length, stored.get(v.key)!.length)
            assert.include(result.remaining, v.key)
            continue
          }
          let bytes = decode(v.value, v.encoding)
          if (v.truncated) {
            assert.strictEqual(v.offset, bytes.length)
            assert.strictEqual(v.length, stored.get(v.key)!.length)
            bytes = Buffer.concat([bytes, yield* readRest(kv, v.key, v.offset!)])
          }
          got.set(v.key, bytes)
        }
        assert.isBelow(result.remaining.length, keys.length)
        keys = [...result.remaining]
      }
      assert.deepStrictEqual(new Map([...got].sort()), new Map([...stored].sort()))
    })
  )

  it.effect("get reads values around the cap whole, or in parts that join up, from any offset", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      // The bytes one value may take of a result (ValueRange's valueBudget) and one either side of it.
      const budget = CAP - 256
      for (const size of [budget - 3, budget - 2, budget - 1, budget, budget + 1, budget + 2, 2 * budget + 1]) {
        const bytes = randomBytes(size)
        yield* kv.set(`${p}:${size}`, bytes.toString("base64"), { encoding: "base64" })
        for (const offset of [0, 1, size - 1, size]) {
          const whole = yield* kv.get(`${p}:${size}`, { offset })
          assert.strictEqual(whole.length, size)
          assert.deepStrictEqual(yield* readRest(kv, `${p}:${size}`, offset), bytes.subarray(offset))
        }
      }
    })
  )

  it.effect("mget reads another type as missing and an empty string as found", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      yield* kv.set(`${p}:e`, "")
      yield* (yield* OtherClient).rpush(`${p}:l`)
      const result = yield* kv.mget([`${p}:e`, `${p}:l`, `${p}:none`])
      assert.deepStrictEqual(result, {
        values: [
          { key: `${p}:e`, found: true, value: "", encoding: "utf8" },
          { key: `${p}:l`, found: false, value: null, encoding: "utf8" },
          { key: `${p}:none`, found: false, value: null, encoding: "utf8" }
        ],
        truncated: false,
        remaining: []
      })
    })
  )

  it.effect("scan pages hold at most limit keys and lose none, even when the keys are deleted as they come", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      const all = Array.from({ length: 300 }, (_, i) => `${p}:${i}`)
      for (let i = 0; i < all.length; i += 100) {
        yield* kv.mset(all.slice(i, i + 100).map((key) => ({ key, value: "v" })))
      }
      for (const remove of [false, true]) {
        const seen = new Set<string>()
        let cursor: string | undefined
        for (let page = 0; ; page++) {
          assert.isBelow(page, 1000, "scan never finished")
          const r = yield* kv.scan({ match: `${p}:*`, limit: 3, ...(cursor === undefined ? {} : { cursor }) })
          assert.isAtMost(r.keys.length, 3)
          assert.strictEqual(r.truncated, !r.done)
          for (const k of r.keys) seen.add(k)
          if (remove && r.keys.length > 0) yield* kv.del(r.keys)
          if (r.done) break
          cursor = r.cursor
        }
        assert.deepStrictEqual([...seen].sort(), [...all].sort())
      }
    })
  )

  it.effect("get and set hand back their output's own JSON encoding (the edge sends it as it is: outputIsJson)", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      yield* kv.set(`${p}:text`, "héllo")
      yield* kv.set(`${p}:empty`, "")
      yield* kv.set(`${p}:binary`, Buffer.from([0xff, 0x00, 0xc3]).toString("base64"), { encoding: "base64" })
      yield* kv.set(`${p}:big`, "é".repeat(CAP))
      const outputs: Array<unknown> = []
      for (const input of [
        { key: `${p}:text` },
        { key: `${p}:missing` },
        { key: `${p}:empty` },
        { key: `${p}:binary` },
        { key: `${p}:big` },
        { key: `${p}:big`, offset: 3, length: 10 },
        { key: `${p}:text`, offset: 100 }
      ]) {
        outputs.push(yield* KeyTools.get.handler(input))
      }
      outputs.push(yield* KeyTools.set.handler({ key: `${p}:set`, value: "v", ttlSeconds: 60 }))
      outputs.push(yield* KeyTools.set.handler({ key: `${p}:set`, value: "v", condition: "ifAbsent" }))
      const tools = [...Array.from({ length: 7 }, () => KeyTools.get), KeyTools.set, KeyTools.set]
      outputs.forEach((output, i) => {
        const encoded = Schema.encodeUnknownSync(Schema.toCodecJson(tools[i]!.output))(output)
        assert.strictEqual(JSON.stringify(output), JSON.stringify(encoded), JSON.stringify(output))
      })
      assert.deepInclude(outputs[4], { found: true, truncated: true })
    })
  )
})
