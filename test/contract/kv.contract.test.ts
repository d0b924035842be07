import { randomBytes } from "node:crypto"
import { assert } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { matcher } from "../../src/services/Glob.ts"
import { Kv } from "../../src/services/Kv.ts"
import { MemoryStore } from "../../src/services/MemoryStore.ts"
import { onMemory, onRedis, runContract } from "./layers.ts"

/** What a test needs to do behind the service's back, on either store. */
class Fixture extends Context.Service<
  Fixture,
  {
    /** Make `key` a hash (to provoke WrongType). */
    readonly hash: (key: string, fields: Record<string, string>) => Effect.Effect<void>
    /** Key names as stored (on Redis: with the key prefix), matching a glob. */
    readonly rawKeys: (match: string) => Effect.Effect<ReadonlyArray<string>>
    /** Write a string key outside the key prefix (on memory there is no prefix). */
    readonly rawSetOutsidePrefix: (key: string) => Effect.Effect<void>
  }
>()("test/KvFixture") {
  static readonly memory = Layer.effect(
    Fixture,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      return Fixture.of({
        hash: (key, fields) =>
          store.put(key, {
            type: "hash",
            expiresAt: null,
            value: new Map(Object.entries(fields).map(([f, v]) => [f, Buffer.from(v)]))
          }),
        rawKeys: (match) => Effect.map(store.keys, (keys) => keys.filter(matcher(match))),
        rawSetOutsidePrefix: (key) => store.put(key, { type: "string", expiresAt: null, value: Buffer.from("x") })
      })
    })
  )

  static readonly redis = Layer.effect(
    Fixture,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      return Fixture.of({
        hash: (key, fields) => Effect.orDie(redis.run("HSET", (c) => c.hset(key, fields))),
        rawKeys: (match) =>
          Effect.orDie(
            redis.run("SCAN", async (c) => {
              const out: Array<string> = []
              let cursor = "0"
              do {
                const [next, keys] = (await c.call("SCAN", [cursor, "MATCH", match, "COUNT", 1000])) as [
                  string,
                  Array<string>
                ]
                out.push(...keys)
                cursor = next
              } while (cursor !== "0")
              return [...new Set(out)]
            })
          ),
        // EVAL with no KEYS: ioredis prefixes nothing.
        rawSetOutsidePrefix: (key) =>
          Effect.orDie(redis.run("EVAL", (c) => c.call("EVAL", ["redis.call('SET', ARGV[1], 'x')", 0, key])))
      })
    })
  )
}

const memory = (env: Record<string, string> = {}) =>
  onMemory(Layer.mergeAll(Kv.layerMemory, Fixture.memory).pipe(Layer.provide(MemoryStore.layer)), env)
const redis = (env: Record<string, string> = {}) => onRedis(Layer.mergeAll(Kv.layer, Fixture.redis), env)

const uid = () => Math.random().toString(36).slice(2, 10)

/** Every key of a scan, paging until done; also the page sizes. */
const scanAll = (kv: Kv["Service"], options: { match?: string; type?: "hash"; limit?: number }) =>
  Effect.gen(function* () {
    const keys = new Set<string>()
    const sizes: Array<number> = []
    let cursor: string | undefined
    for (let page = 0; page < 1000; page++) {
      const result = yield* kv.scan({ ...options, ...(cursor === undefined ? {} : { cursor }) })
      for (const k of result.keys) keys.add(k)
      sizes.push(result.keys.length)
      assert.strictEqual(result.truncated, !result.done)
      if (result.done) {
        assert.strictEqual(result.cursor, "0")
        return { keys: [...keys].sort(), sizes }
      }
      cursor = result.cursor
    }
    return assert.fail("scan never finished")
  })

runContract("Kv contract", memory(), redis(), (it, target) => {
  it.effect("get of a missing key is found:false, not an error", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const r = yield* kv.get(`missing:${uid()}`)
      assert.deepStrictEqual(r, { found: false, value: null, encoding: "utf8", length: 0, truncated: false })
    })
  )

  it.effect("set then get round-trips text; length is in bytes", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `s:${uid()}`
      assert.isTrue(yield* kv.set(key, "héllo"))
      assert.deepStrictEqual(yield* kv.get(key), {
        found: true,
        value: "héllo",
        encoding: "utf8",
        length: 6,
        truncated: false
      })
      assert.isTrue(yield* kv.set(key, ""))
      assert.deepStrictEqual(yield* kv.get(key), {
        found: true,
        value: "",
        encoding: "utf8",
        length: 0,
        truncated: false
      })
    })
  )

  it.effect("non-UTF-8 bytes round-trip as base64 (get and mget)", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `bin:${uid()}`
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41])
      assert.isTrue(yield* kv.set(key, bytes.toString("base64"), { encoding: "base64" }))
      const r = yield* kv.get(key)
      assert.strictEqual(r.encoding, "base64")
      assert.strictEqual(r.length, 5)
      assert.deepStrictEqual(Buffer.from(r.value!, "base64"), bytes)
      const [item] = (yield* kv.mget([key])).values
      assert.deepStrictEqual(item, { key, found: true, value: bytes.toString("base64"), encoding: "base64" })
      // base64 of valid UTF-8 comes back as text
      yield* kv.set(key, Buffer.from("plain").toString("base64"), { encoding: "base64" })
      assert.deepStrictEqual((yield* kv.get(key)).value, "plain")
      const bad = yield* Effect.flip(kv.set(key, "not base64!", { encoding: "base64" }))
      assert.strictEqual(bad._tag, "InvalidArgument")
    })
  )

  it.effect("get reads a byte range with offset and length", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `range:${uid()}`
      yield* kv.set(key, "0123456789")
      assert.deepStrictEqual(yield* kv.get(key, { offset: 3, length: 4 }), {
        found: true,
        value: "3456",
        encoding: "utf8",
        length: 10,
        truncated: true,
        offset: 7
      })
      const tail = yield* kv.get(key, { offset: 7 })
      assert.strictEqual(tail.value, "789")
      assert.isFalse(tail.truncated)
      assert.isUndefined(tail.offset)
      const past = yield* kv.get(key, { offset: 50 })
      assert.strictEqual(past.value, "")
      assert.isFalse(past.truncated)
      assert.strictEqual((yield* Effect.flip(kv.get(key, { offset: -1 })))._tag, "InvalidArgument")
    })
  )

  it.effect("set conditions: ifAbsent and ifPresent", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `cond:${uid()}`
      assert.isFalse(yield* kv.set(key, "x", { condition: "ifPresent" }))
      assert.isFalse((yield* kv.get(key)).found)
      assert.isTrue(yield* kv.set(key, "first", { condition: "ifAbsent" }))
      assert.isFalse(yield* kv.set(key, "second", { condition: "ifAbsent" }))
      assert.strictEqual((yield* kv.get(key)).value, "first")
      assert.isTrue(yield* kv.set(key, "third", { condition: "ifPresent" }))
      assert.strictEqual((yield* kv.get(key)).value, "third")
      assert.isTrue(yield* kv.set(key, "fourth", { condition: "always" }))
      assert.strictEqual((yield* kv.get(key)).value, "fourth")
    })
  )

  it.effect("a TTL expires the key; keepTtl keeps it, a plain set clears it", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `ttl:${uid()}`
      const kept = `keep:${uid()}`
      yield* kv.set(key, "v", { ttlSeconds: 1 })
      yield* kv.set(kept, "v", { ttlSeconds: 1 })
      yield* kv.set(kept, "w", { keepTtl: true })
      const info = yield* kv.keyInfo(key)
      assert.isTrue(info.ttlMs !== null && info.ttlMs > 0 && info.ttlMs <= 1000)
      assert.isTrue((yield* kv.keyInfo(kept)).ttlMs !== null)
      yield* target.advance(1100)
      assert.isFalse((yield* kv.get(key)).found)
      assert.isFalse((yield* kv.get(kept)).found)
      assert.deepStrictEqual(yield* kv.exists([key, kept]), { count: 0, existing: [] })

      yield* kv.set(key, "v", { ttlSeconds: 100 })
      yield* kv.set(key, "w")
      assert.isNull((yield* kv.keyInfo(key)).ttlMs)
      const both = yield* Effect.flip(kv.set(key, "v", { ttlSeconds: 5, keepTtl: true }))
      assert.strictEqual(both._tag, "InvalidArgument")
    })
  )

  it.effect("WrongType names the actual type and the tool to use; set replaces any type", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const key = `hash:${uid()}`
      yield* fixture.hash(key, { a: "1", b: "2" })
      const e = yield* Effect.flip(kv.get(key))
      assert.strictEqual(e._tag, "WrongType")
      if (e._tag !== "WrongType") return
      assert.strictEqual(e.actualType, "hash")
      assert.strictEqual(e.key, key)
      assert.include(e.message, "hget")
      const i = yield* Effect.flip(kv.incr(key))
      assert.strictEqual(i._tag, "WrongType")
      assert.include(i.message, "hash")
      // MGET reads another type as missing
      assert.deepStrictEqual((yield* kv.mget([key])).values, [{ key, found: false, value: null, encoding: "utf8" }])
      assert.isTrue(yield* kv.set(key, "now a string"))
      assert.strictEqual((yield* kv.get(key)).value, "now a string")
    })
  )

  it.effect("mget returns values in request order, each key once, missing keys found:false", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      yield* kv.set(`${p}:a`, "A")
      yield* kv.set(`${p}:c`, "C")
      const result = yield* kv.mget([`${p}:c`, `${p}:b`, `${p}:a`, `${p}:c`])
      assert.deepStrictEqual(
        result.values.map((v) => [v.key, v.found, v.value]),
        [
          [`${p}:c`, true, "C"],
          [`${p}:b`, false, null],
          [`${p}:a`, true, "A"]
        ]
      )
      assert.isFalse(result.truncated)
      assert.deepStrictEqual(result.remaining, [])
      assert.strictEqual((yield* Effect.flip(kv.mget([])))._tag, "InvalidArgument")
    })
  )

  it.effect("mset writes every entry; with ttlSeconds each gets the TTL, without it TTLs are cleared", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      yield* kv.set(`${p}:a`, "old", { ttlSeconds: 100 })
      assert.isTrue(
        yield* kv.mset([
          { key: `${p}:a`, value: "1" },
          { key: `${p}:b`, value: Buffer.from([0xc3, 0x28]).toString("base64"), encoding: "base64" }
        ])
      )
      const [a, b] = (yield* kv.mget([`${p}:a`, `${p}:b`])).values
      assert.strictEqual(a!.value, "1")
      assert.strictEqual(b!.encoding, "base64")
      assert.isNull((yield* kv.keyInfo(`${p}:a`)).ttlMs)

      assert.isTrue(
        yield* kv.mset(
          [
            { key: `${p}:x`, value: "x" },
            { key: `${p}:y`, value: "y" }
          ],
          1
        )
      )
      for (const k of [`${p}:x`, `${p}:y`]) {
        const ttl = (yield* kv.keyInfo(k)).ttlMs
        assert.isTrue(ttl !== null && ttl > 0 && ttl <= 1000)
      }
      yield* target.advance(1100)
      assert.deepStrictEqual(yield* kv.exists([`${p}:x`, `${p}:y`]), { count: 0, existing: [] })
    })
  )

  it.effect("del deletes keys of any type and counts each key once", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      yield* kv.set(`${p}:s`, "v")
      yield* fixture.hash(`${p}:h`, { f: "v" })
      assert.strictEqual(yield* kv.del([`${p}:s`, `${p}:h`, `${p}:missing`, `${p}:s`]), 2)
      assert.deepStrictEqual(yield* kv.exists([`${p}:s`, `${p}:h`]), { count: 0, existing: [] })
      assert.strictEqual(yield* kv.del([`${p}:s`]), 0)
    })
  )

  it.effect("exists reports which keys exist, once each, in request order", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      yield* kv.set(`${p}:b`, "v")
      yield* fixture.hash(`${p}:h`, { f: "v" })
      assert.deepStrictEqual(yield* kv.exists([`${p}:h`, `${p}:nope`, `${p}:b`, `${p}:h`]), {
        count: 2,
        existing: [`${p}:h`, `${p}:b`]
      })
    })
  )

  it.effect("expire sets a TTL, persist removes it; missing keys are applied:false", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const key = `exp:${uid()}`
      assert.isFalse(yield* kv.expire(key, { ttlSeconds: 10 }))
      assert.isFalse(yield* kv.expire(key, { persist: true }))
      yield* fixture.hash(key, { f: "v" })
      assert.isTrue(yield* kv.expire(key, { ttlSeconds: 10 }))
      const ttl = (yield* kv.keyInfo(key)).ttlMs
      assert.isTrue(ttl !== null && ttl > 9000 && ttl <= 10_000)
      assert.isTrue(yield* kv.expire(key, { persist: true }))
      assert.isNull((yield* kv.keyInfo(key)).ttlMs)
      assert.isFalse(yield* kv.expire(key, { persist: true }))
      assert.isTrue(yield* kv.expire(key, { ttlSeconds: 1 }))
      yield* target.advance(1100)
      assert.isFalse((yield* kv.keyInfo(key)).exists)
      assert.strictEqual((yield* Effect.flip(kv.expire(key, {})))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(kv.expire(key, { ttlSeconds: 5, persist: true })))._tag, "InvalidArgument")
      assert.strictEqual((yield* Effect.flip(kv.expire(key, { ttlSeconds: 0 })))._tag, "InvalidArgument")
    })
  )

  it.effect("key_info gives type, size and a TTL that counts down", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      assert.deepStrictEqual(yield* kv.keyInfo(`${p}:none`), { exists: false, type: "none", ttlMs: null, size: 0 })
      yield* kv.set(`${p}:s`, "héllo")
      assert.deepStrictEqual(yield* kv.keyInfo(`${p}:s`), { exists: true, type: "string", ttlMs: null, size: 6 })
      yield* fixture.hash(`${p}:h`, { a: "1", b: "2", c: "3" })
      assert.deepStrictEqual(yield* kv.keyInfo(`${p}:h`), { exists: true, type: "hash", ttlMs: null, size: 3 })

      yield* kv.set(`${p}:t`, "v", { ttlSeconds: 10 })
      const before = (yield* kv.keyInfo(`${p}:t`)).ttlMs!
      yield* target.advance(300)
      const after = (yield* kv.keyInfo(`${p}:t`)).ttlMs!
      assert.isTrue(before <= 10_000 && before > 9_000)
      assert.isTrue(after <= before - 300)
      if (target.name === "memory") assert.deepStrictEqual([before, after], [10_000, 9_700])
    })
  )

  it.effect("rename moves the value and its TTL; onlyIfAbsent refuses to overwrite; a missing source is NotFound", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      const missing = yield* Effect.flip(kv.rename(`${p}:nope`, `${p}:x`))
      assert.strictEqual(missing._tag, "NotFound")
      assert.include(missing.message, `${p}:nope`)
      assert.strictEqual((yield* Effect.flip(kv.rename(`${p}:nope`, `${p}:x`, true)))._tag, "NotFound")

      yield* kv.set(`${p}:a`, "A", { ttlSeconds: 100 })
      assert.isTrue(yield* kv.rename(`${p}:a`, `${p}:b`))
      assert.isFalse((yield* kv.get(`${p}:a`)).found)
      assert.strictEqual((yield* kv.get(`${p}:b`)).value, "A")
      assert.isNotNull((yield* kv.keyInfo(`${p}:b`)).ttlMs)

      yield* kv.set(`${p}:c`, "C")
      assert.isFalse(yield* kv.rename(`${p}:b`, `${p}:c`, true))
      assert.strictEqual((yield* kv.get(`${p}:b`)).value, "A")
      assert.strictEqual((yield* kv.get(`${p}:c`)).value, "C")
      assert.isTrue(yield* kv.rename(`${p}:b`, `${p}:c`))
      assert.strictEqual((yield* kv.get(`${p}:c`)).value, "A")

      yield* fixture.hash(`${p}:h`, { f: "v" })
      assert.isTrue(yield* kv.rename(`${p}:h`, `${p}:h2`, true))
      assert.strictEqual((yield* kv.keyInfo(`${p}:h2`)).type, "hash")
    })
  )

  it.effect("incr adds to integers, keeps the TTL, and refuses non-integers", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `n:${uid()}`
      assert.strictEqual(yield* kv.incr(key), 1)
      assert.strictEqual(yield* kv.incr(key, 5), 6)
      assert.strictEqual(yield* kv.incr(key, -10), -4)
      assert.strictEqual((yield* kv.get(key)).value, "-4")
      yield* kv.expire(key, { ttlSeconds: 100 })
      yield* kv.incr(key)
      assert.isNotNull((yield* kv.keyInfo(key)).ttlMs)

      for (const bad of ["abc", "1.5", " 1", "", "9223372036854775807"]) {
        yield* kv.set(key, bad)
        const e = yield* Effect.flip(kv.incr(key))
        assert.strictEqual(e._tag, "InvalidArgument", bad)
        assert.include(e.message, "integer")
        assert.strictEqual((yield* kv.get(key)).value, bad)
      }
    })
  )

  it.effect("scan pages until done, with match and type filters", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      const strings = Array.from({ length: 25 }, (_, i) => `${p}:k${i}`)
      const hashes = [`${p}:h0`, `${p}:h1`, `${p}:h2`]
      yield* kv.mset(strings.map((key) => ({ key, value: "v" })))
      for (const h of hashes) yield* fixture.hash(h, { f: "v" })
      yield* kv.set(`other${p}:k1`, "v")

      const all = yield* scanAll(kv, { match: `${p}:*`, limit: 7 })
      assert.deepStrictEqual(all.keys, [...strings, ...hashes].sort())
      assert.isTrue(all.sizes.length > 1)
      for (const size of all.sizes) assert.isAtMost(size, 7)

      const onlyHashes = yield* scanAll(kv, { match: `${p}:*`, type: "hash", limit: 5 })
      assert.deepStrictEqual(onlyHashes.keys, hashes)

      const ones = yield* scanAll(kv, { match: `${p}:k1*` })
      assert.deepStrictEqual(ones.keys, strings.filter((k) => /:k1\d*$/.test(k)).sort())

      const classes = yield* scanAll(kv, { match: `${p}:[hk][0-1]` })
      assert.deepStrictEqual(classes.keys, [`${p}:h0`, `${p}:h1`, `${p}:k0`, `${p}:k1`])

      const everything = yield* scanAll(kv, { limit: 50 })
      for (const k of [...strings, ...hashes, `other${p}:k1`]) assert.include(everything.keys, k)

      assert.strictEqual((yield* Effect.flip(kv.scan({ cursor: "not a cursor" })))._tag, "InvalidArgument")
    })
  )
})

// Output cap 512 bytes → 256 bytes of value per result; values up to 4 KiB; every key under "app:".
const smallEnv = {
  REDIS_MCP_MAX_OUTPUT_BYTES: "512",
  REDIS_MCP_MAX_VALUE_BYTES: "4096",
  REDIS_MCP_KEY_PREFIX: "app:"
}

/** Read a value part by part; the parts' bytes and results. */
const readAll = (kv: Kv["Service"], key: string) =>
  Effect.gen(function* () {
    const parts: Array<Buffer> = []
    const results = []
    let offset = 0
    for (let i = 0; i < 100; i++) {
      const r = yield* kv.get(key, { offset })
      results.push(r)
      parts.push(Buffer.from(r.value!, r.encoding === "base64" ? "base64" : "utf8"))
      if (!r.truncated) return { bytes: Buffer.concat(parts), results }
      offset = r.offset!
    }
    return assert.fail("get never reached the end")
  })

runContract("Kv contract (small output cap, key prefix)", memory(smallEnv), redis(smallEnv), (it, target) => {
  it.effect("a value over the output cap comes back in parts that reassemble exactly", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const p = uid()
      const values = {
        ascii: Buffer.from("x".repeat(1000)),
        multibyte: Buffer.from("é€😀".repeat(60)),
        escapes: Buffer.from('"\\\n'.repeat(200)),
        binary: randomBytes(700)
      }
      for (const [name, bytes] of Object.entries(values)) {
        const key = `${p}:${name}`
        yield* kv.set(key, bytes.toString("base64"), { encoding: "base64" })
        const first = yield* kv.get(key)
        assert.isTrue(first.truncated, name)
        assert.strictEqual(first.length, bytes.length, name)
        const all = yield* readAll(kv, key)
        assert.isTrue(all.bytes.equals(bytes), name)
        assert.isTrue(all.results.length > 1, name)
        for (const r of all.results) {
          assert.strictEqual(r.length, bytes.length)
          assert.isAtMost(Buffer.byteLength(JSON.stringify(r)), 512, name)
          if (name !== "binary") assert.strictEqual(r.encoding, "utf8", `${name} parts stay text`)
        }
      }
    })
  )

  it.effect("a value over the size limit is TooLarge and nothing is written", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const key = `big:${uid()}`
      const e = yield* Effect.flip(kv.set(key, "x".repeat(4097)))
      assert.strictEqual(e._tag, "TooLarge")
      if (e._tag === "TooLarge") assert.deepStrictEqual([e.size, e.limit], [4097, 4096])
      assert.isFalse((yield* kv.get(key)).found)
      assert.isTrue(yield* kv.set(key, "x".repeat(4096)))

      const m = yield* Effect.flip(
        kv.mset([
          { key: `${key}:a`, value: "small" },
          { key: `${key}:b`, value: "y".repeat(5000) }
        ])
      )
      assert.strictEqual(m._tag, "TooLarge")
      assert.deepStrictEqual(yield* kv.exists([`${key}:a`, `${key}:b`]), { count: 0, existing: [] })
    })
  )

  it.effect("keys land under the prefix; tools see and return them without it", () =>
    Effect.gen(function* () {
      const kv = yield* Kv
      const fixture = yield* Fixture
      const p = uid()
      yield* kv.set(`${p}:one`, "1")
      yield* fixture.hash(`${p}:h`, { f: "v" })
      yield* fixture.rawSetOutsidePrefix(`${p}:outside`)
      const raw = [...(yield* fixture.rawKeys(`*${p}:*`))].sort()
      const scanned = yield* scanAll(kv, { match: `${p}:*` })
      if (target.name === "redis") {
        assert.deepStrictEqual(raw, [`${p}:outside`, `app:${p}:h`, `app:${p}:one`].sort())
        assert.deepStrictEqual(scanned.keys, [`${p}:h`, `${p}:one`])
      } else {
        assert.deepStrictEqual(scanned.keys, [`${p}:h`, `${p}:one`, `${p}:outside`])
      }
      const everything = yield* scanAll(kv, {})
      assert.isFalse(everything.keys.some((k) => k.startsWith("app:")))

      // WrongType lookup, rename, key_info and del all address the prefixed keys
      const e = yield* Effect.flip(kv.get(`${p}:h`))
      assert.strictEqual(e._tag === "WrongType" ? e.actualType : e._tag, "hash")
      assert.isTrue(yield* kv.rename(`${p}:one`, `${p}:two`))
      assert.strictEqual((yield* kv.keyInfo(`${p}:two`)).type, "string")
      assert.strictEqual(yield* kv.del([`${p}:two`, `${p}:h`]), 2)
    })
  )
})
