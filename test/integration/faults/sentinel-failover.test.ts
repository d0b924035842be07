/**
 * Scenario 1: in Sentinel mode (REDIS_SENTINELS) the primary is SIGKILLed while
 * the services write under steady load (Kv `set`, Tasks `create`, State `patch`).
 * Calls fail only with the typed errors of a connection fault (never hang, never
 * an untyped defect) until the sentinels promote the replica, then writes resume
 * on the new primary, and everything acknowledged is readable there.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Layer } from "effect"
import { Kv } from "../../../src/services/Kv.ts"
import { State } from "../../../src/services/State.ts"
import { Tasks } from "../../../src/services/Tasks.ts"
import { requireRedis } from "../../support/env.ts"
import { type SentinelSet, startSentinelSet } from "../../support/sentinel.ts"
import { now, runId, startLoad } from "./load.ts"
import { report, summarize, unexpectedErrors } from "./report.ts"
import { inProcess, serviceWrites, TIMEOUT_MS } from "./targets.ts"

describe("Sentinel: the primary is killed under load", () => {
  let sentinel: SentinelSet
  beforeAll(async () => {
    requireRedis()
    sentinel = await startSentinelSet({ replicas: 1, sentinels: 3, downAfterMs: 1000 })
  })
  afterAll(() => sentinel?.stop())

  it("writes resume after the failover and nothing acknowledged is lost", async () => {
    const services = await inProcess(Layer.mergeAll(Kv.layer, Tasks.layer, State.layer), {
      REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(","),
      REDIS_SENTINEL_MASTER: sentinel.masterName
    })
    try {
      const id = runId("sentinel")
      const name = id.replaceAll(":", "-")
      const writes = serviceWrites(services.call, id)
      const load = startLoad({ workers: 3, hangAfterMs: TIMEOUT_MS + 2000 }, (n, worker) =>
        worker === 0
          ? writes.set("set", n)
          : worker === 1
            ? writes.task("task_create", n, name)
            : writes.patch("state_patch", n, name, "doc")
      )
      await load.settle(60)
      const old = await sentinel.primary()
      await sentinel.killPrimary()
      const faultAt = now()
      await load.firstOkSince(faultAt, 30_000)
      const promoted = await sentinel.waitForPrimaryChange(old.port)
      await load.settle(60)
      const records = await load.stop()

      const reader = (await sentinel.primaryHandle()).client()
      const lost = await writes.verify((keys) => reader.mget(...keys))
      const summary = report(summarize("sentinel-failover", records, [faultAt], lost.length), {
        oldPrimary: old.port,
        newPrimary: promoted.port,
        ...writes.acknowledged()
      })

      assert.notStrictEqual(promoted.port, old.port)
      assert.deepStrictEqual(lost, [], "acknowledged writes were lost")
      assert.strictEqual(summary.hung, 0, "a call hung past the command timeout")
      assert.strictEqual(summary.other, 0, `untyped failures: ${summary.otherSamples.join(" | ")}`)
      assert.deepStrictEqual(unexpectedErrors(summary), [], "failures other than a connection fault's")
      assert.isAbove(Object.values(summary.failed).length, 0, "the kill was not noticed")
      const acknowledged = writes.acknowledged()
      assert.isAbove(Math.min(acknowledged.keys, acknowledged.tasks, acknowledged.patches), 10)
    } finally {
      await services.dispose()
    }
  })
})
