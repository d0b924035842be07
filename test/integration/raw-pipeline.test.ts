/**
 * The ioredis internals `release` (src/services/batch/RawPipeline.ts) empties, on the
 * installed ioredis and a real redis-server: a settled pipeline still keeps its
 * commands in `_queue` (what its own `length` getter reads), its replies in `_result`
 * and its promise with its resolvers, and `release` lets go of all of them. An ioredis
 * that moves any of these fails here, instead of quietly keeping every pipeline's
 * commands and replies alive until a full collection again.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Command, Redis } from "ioredis"
import { type RawPipeline, release } from "../../src/services/batch/RawPipeline.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

describe("raw pipeline release (ioredis internals)", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let server: RedisHandle
  let client: Redis

  beforeAll(async () => {
    server = await startRedis()
    client = new Redis(server.url, { lazyConnect: true })
    await client.connect()
  })

  afterAll(async () => {
    client?.disconnect()
    await server?.dispose()
  })

  const settled = async (atomic: boolean) => {
    const p = (atomic ? client.multi() : client.pipeline()) as unknown as RawPipeline
    for (const args of [
      ["k1", "v1"],
      ["k2", "v2"],
      ["k3", "v3"]
    ]) {
      p.sendCommand(new Command("set", args, { replyEncoding: null }))
    }
    const replies = await p.exec()
    return { p, replies }
  }

  for (const atomic of [false, true]) {
    it(`a settled ${atomic ? "MULTI" : "pipeline"} holds its commands, replies and promise where release empties them`, async () => {
      const { p, replies } = await settled(atomic)
      assert.deepStrictEqual(
        replies?.map(([e, r]) => [e, String(r)]),
        [
          [null, "OK"],
          [null, "OK"],
          [null, "OK"]
        ]
      )
      // MULTI/EXEC queues its MULTI and EXEC around the commands.
      const queued = atomic ? 5 : 3
      assert.isTrue(Object.hasOwn(p, "_queue"))
      assert.strictEqual(p._queue.length, queued)
      assert.strictEqual(p.length, queued, "the pipeline's length getter reads _queue")
      assert.isTrue(Object.hasOwn(p, "_result"))
      assert.isAbove(p._result.length, 0, "the replies are kept in _result")
      assert.instanceOf(p.promise, Promise)
      // It settled with every queued reply (exec hands MULTI's caller the EXEC part of them).
      assert.lengthOf((await p.promise) as Array<unknown>, queued)
      assert.strictEqual(typeof p.resolve, "function")
      assert.strictEqual(typeof p.reject, "function")

      release(p)
      assert.strictEqual(p.length, 0, "the length getter's closure no longer reaches the commands")
      assert.deepStrictEqual(p._result, [])
      assert.strictEqual(p.promise, undefined)
    })
  }
})
