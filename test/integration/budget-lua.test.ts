/**
 * The Lua twin of the JSON size estimate (LUA_BUDGET's `jsize`), run by a real
 * redis-server, gives the same numbers as `jsonBound`: the page scripts on Redis
 * and the memory layers must cut pages at the same places.
 */
import { randomBytes } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type { Redis } from "ioredis"
import { jsonBound, LUA_BUDGET } from "../../src/services/Budget.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

describe("LUA_BUDGET", () => {
  let redis: RedisHandle
  let client: Redis
  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    client = redis.client()
  })
  afterAll(() => redis?.dispose())

  it("jsize(s) equals jsonBound(s) for text, escapes, UTF-8 and binary", async () => {
    const values = [
      Buffer.alloc(0),
      Buffer.from("plain ascii"),
      Buffer.from('"\\"\\\\'),
      Buffer.from("\u0000\u0001\n\t\u001f\u007f"),
      Buffer.from("ünïcødé 🚀"),
      Buffer.alloc(5000, 1),
      ...Array.from({ length: 50 }, (_, i) => randomBytes(i * 37))
    ]
    const script = `${LUA_BUDGET}\nlocal out = {}\nfor i = 1, #ARGV do out[i] = jsize(ARGV[i]) end\nreturn out`
    const got = (await client.eval(script, 0, ...values)) as Array<number>
    assert.deepStrictEqual(got, values.map(jsonBound))
  })
})
