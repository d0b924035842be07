/**
 * The glob matcher agrees with Redis's own `stringmatchlen`: a corpus of keys
 * (text, binary, upper and lower case, glob metacharacters) and of patterns
 * (hand-picked quirks plus seeded random ones) is run through `KEYS` on a real
 * redis-server and through `compileGlob`, and every answer must be the same.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { compileGlob } from "../../src/services/Glob.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const KEY_ALPHABET = ["a", "b", "c", "A", "B", "x", ":", "-", "]", "[", "*", "?", "\\", "^", "é", "z", "0", "9"]
const PATTERN_PIECES = [
  "*",
  "*",
  "?",
  "[",
  "]",
  "^",
  "-",
  "\\",
  "a",
  "b",
  "c",
  "A",
  "x",
  ":",
  "é",
  "[a-c]",
  "[^a]",
  "[c-a]",
  "[\\]]",
  "[a-é]",
  "0",
  "z"
]

const handPicked = [
  "",
  "*",
  "**",
  "?",
  "a*",
  "*a",
  "a**b",
  "[]x",
  "[^]x",
  "a[bc",
  "a[^",
  "[",
  "[^",
  "[a-]",
  "[a-]x",
  "[-a]",
  "[\\-a]",
  "\\*",
  "a\\",
  "\\",
  "[a-\\]]",
  "[A-z]",
  "[z-A]",
  "*[é]*",
  "[\u00e9-\u00ff]*",
  "[\u0080-a]",
  "*:*:*",
  "*a*a*a*a*a*a*b"
]

describe("glob matcher vs Redis stringmatchlen (KEYS on a real redis-server)", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  const keys: Array<Buffer> = []

  beforeAll(async () => {
    redis = await startRedis()
    const random = prng(42)
    const seen = new Set<string>()
    const add = (k: Buffer) => {
      if (seen.has(k.toString("hex"))) return
      seen.add(k.toString("hex"))
      keys.push(k)
    }
    for (const k of ["", "a", "b", "ab", "abc", "aXb", "a*b", "[", "]", "\\", "x", "A", "-", "é", "aé"]) {
      add(Buffer.from(k, "utf8"))
    }
    // Raw bytes that are not UTF-8: ranges compare them as signed chars in Redis.
    for (const b of [0x80, 0xa9, 0xc3, 0xff]) add(Buffer.from([b]))
    add(Buffer.from([0x61, 0xc3]))
    add(Buffer.from("a".repeat(40) + "b"))
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(random() * 8)
      let k = ""
      for (let j = 0; j < n; j++) k += KEY_ALPHABET[Math.floor(random() * KEY_ALPHABET.length)]
      add(Buffer.from(k, "utf8"))
    }
    const client = redis.client()
    const pipeline = client.pipeline()
    for (const k of keys) pipeline.set(k, "1")
    await pipeline.exec()
  }, 60_000)

  afterAll(async () => {
    await redis?.dispose()
  })

  const patterns = (() => {
    const random = prng(7)
    const out = [...handPicked]
    for (let i = 0; i < 600; i++) {
      const n = 1 + Math.floor(random() * 6)
      let p = ""
      for (let j = 0; j < n; j++) p += PATTERN_PIECES[Math.floor(random() * PATTERN_PIECES.length)]
      out.push(p)
    }
    return [...new Set(out)]
  })()

  it(`answers as Redis does for ${patterns.length} patterns over the corpus`, async () => {
    const client = redis.client()
    let compared = 0
    for (const pattern of patterns) {
      // KEYS * is special-cased by Redis (every key, the empty one too, no matching); so is the matcher.
      const fromRedis = new Set(((await client.keysBuffer(pattern)) as Array<Buffer>).map((k) => k.toString("hex")))
      const glob = compileGlob(pattern)
      for (const key of keys) {
        const expected = fromRedis.has(key.toString("hex"))
        if (glob.test(key) !== expected) {
          assert.fail(
            `pattern ${JSON.stringify(pattern)} (hex ${Buffer.from(pattern).toString("hex")}) vs key ${key.toString("hex")}: Redis says ${expected}`
          )
        }
        compared++
      }
    }
    assert.isAbove(compared, 100_000)
  }, 120_000)
})
