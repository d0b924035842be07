/**
 * Scenario 3: a standalone Redis stops answering (CLIENT PAUSE, then DEBUG SLEEP)
 * for longer than the command timeout while the Kv service writes under steady
 * load. Calls made during the pause fail cleanly with `Timeout` (nothing hangs,
 * nothing untyped), writes resume once Redis answers again, and every
 * acknowledged write is readable afterwards.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Kv } from "../../../src/services/Kv.ts"
import { requireRedis } from "../../support/env.ts"
import { type RedisHandle, startRedis } from "../../support/standalone.ts"
import { keyWrites, lostWrites, now, runId, startLoad } from "./load.ts"
import { report, summarize } from "./report.ts"
import { inProcess, TIMEOUT_MS } from "./targets.ts"

/** Longer than the command timeout, so calls made during it must time out. */
const PAUSE_MS = 3 * TIMEOUT_MS

describe("a Redis that stops answering for longer than the command timeout", () => {
  let redis: RedisHandle
  let services: Awaited<ReturnType<typeof inProcess<Kv, never>>>
  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    services = await inProcess(Kv.layer, { REDIS_URL: redis.url })
  })
  afterAll(async () => {
    await services?.dispose()
    await redis?.dispose()
  })

  const scenario = async (name: string, fault: () => Promise<void>) => {
    const writes = keyWrites(runId(name))
    const load = startLoad({ hangAfterMs: TIMEOUT_MS + 2000 }, (n) =>
      writes.operation("set", n, (key, value) => services.call(Effect.flatMap(Kv, (kv) => kv.set(key, value))))
    )
    await load.settle(40)
    await fault()
    const faultAt = now()
    // The first write started after the fault can only succeed once Redis answers again.
    await load.firstOkSince(faultAt, 30_000)
    await load.settle(40)
    const records = await load.stop()

    const reader = redis.client()
    const lost = await lostWrites(writes.acknowledged, (keys) => reader.mget(...keys))
    const summary = report(summarize(name, records, [faultAt], lost.length), { pauseMs: PAUSE_MS })

    assert.deepStrictEqual(lost, [], "acknowledged writes were lost")
    assert.strictEqual(summary.hung, 0, "a call hung past the command timeout")
    assert.strictEqual(summary.other, 0, `untyped failures: ${summary.otherSamples.join(" | ")}`)
    assert.deepStrictEqual(Object.keys(summary.failed), ["Timeout"], "calls during the pause must fail with Timeout")
    assert.isAbove(summary.ok, 80)
  }

  it("CLIENT PAUSE ALL: Timeout during the pause, writes resume after it", () =>
    scenario("pause-client-pause", () => redis.pause(PAUSE_MS, "ALL")))

  it("DEBUG SLEEP: Timeout while Redis sleeps, writes resume after it", () =>
    scenario("pause-debug-sleep", () => redis.debugSleep(PAUSE_MS / 1000)))
})
