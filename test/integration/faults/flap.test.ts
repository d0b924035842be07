/**
 * Scenario 5: the connection flaps every few seconds for about half a minute
 * while the built server (dist/main.js over stdio) is under steady load: Redis
 * drops every client connection (CLIENT KILL TYPE normal), then is SIGKILLed and
 * restarted (AOF, appendfsync always), in turn. The server stays up, answers every
 * call with a result or a typed error (never hangs, never an untyped defect), its
 * heap after GC does not keep growing, and nothing acknowledged is lost.
 */
import { assert, describe, it } from "@effect/vitest"
import { sleep } from "../../support/wait.ts"
import { useProbedServerOnAofRedis } from "./hooks.ts"
import { keyWrites, lostWrites, now, type Operation, runId, startLoad } from "./load.ts"
import { MiB, report, summarize, unexpectedErrors } from "./report.ts"
import { TIMEOUT_MS } from "./targets.ts"

const FLAPS = 8
const EVERY_MS = 3000
/** Generous: a leak per call or per reconnect would exceed it; GC noise and caches do not. */
const HEAP_GROWTH_LIMIT = 32 * 1024 * 1024

describe("a connection that flaps every few seconds under steady load, through the built server", () => {
  const target = useProbedServerOnAofRedis()

  it("stays up, answers every call, keeps its heap bounded and loses nothing acknowledged", async () => {
    const { call, heap, alive } = target.probed()
    const redis = target.redis()
    const id = runId("flap")
    const namespace = id.replaceAll(":", "-")
    const keys = keyWrites(id)
    const patched = new Map<string, number>()
    const tasks = new Map<string, number>()
    const operations: Array<(n: number) => Operation> = [
      (n) => keys.operation("set", n, (key, value) => call("set", { key, value })),
      (n) => ({
        op: "state_patch",
        run: () => call("state_patch", { namespace, key: "shared", patch: { [`f${n}`]: n } }),
        onOk: () => patched.set(`f${n}`, n)
      }),
      (n) => ({
        op: "task_create",
        run: () => call("task_create", { queue: namespace, payload: { n } }),
        onOk: (v) => tasks.set((v as { taskId: string }).taskId, n)
      })
    ]
    const load = startLoad({ workers: 2, hangAfterMs: TIMEOUT_MS + 4000 }, (n) => operations[n % operations.length]!(n))
    await load.settle(300)
    const heapStart = await heap()

    const faults: Array<number> = []
    for (let i = 0; i < FLAPS; i++) {
      await sleep(EVERY_MS)
      if (i % 2 === 0) {
        await redis.command("CLIENT", "KILL", "TYPE", "normal")
        faults.push(now())
      } else {
        await redis.kill()
        faults.push(now())
        await redis.restart()
      }
    }
    await load.firstOkSince(faults.at(-1)!, 30_000)
    await load.settle(100)
    const records = await load.stop()
    const heapEnd = await heap()

    const reader = redis.client()
    const lost = [...(await lostWrites(keys.acknowledged, (batch) => reader.mget(...batch)))]
    const shared = await call("state_get", { namespace, key: "shared" })
    const value = shared.kind === "ok" ? (shared.value as { value: Record<string, number> }).value : {}
    for (const [field, n] of patched) if (value[field] !== n) lost.push(`state_patch ${field}`)
    const counted = await call("queue_stats", { queue: namespace })
    const waiting = counted.kind === "ok" ? (counted.value as { counts: { waiting: number } }).counts.waiting : -1
    // A create that timed out may still have happened, so there can be more tasks, never fewer.
    if (waiting < tasks.size) lost.push(`tasks: ${tasks.size} acknowledged, ${waiting} waiting`)
    for (const [taskId, n] of [...tasks].slice(0, 50)) {
      const got = await call("task_get", { queue: namespace, taskId })
      if (got.kind !== "ok" || (got.value as { payload: { n: number } }).payload.n !== n) lost.push(`task ${taskId}`)
    }
    const health = await call("health", {})
    const reconnects = health.kind === "ok" ? (health.value as { reconnects: number }).reconnects : -1

    const summary = report(summarize("network-flap", records, faults, lost.length), {
      flaps: FLAPS,
      reconnects,
      heapStartMiB: MiB(heapStart.heapUsed),
      heapEndMiB: MiB(heapEnd.heapUsed),
      rssStartMiB: MiB(heapStart.rss),
      rssEndMiB: MiB(heapEnd.rss)
    })
    assert.isTrue(alive(), "the server process exited")
    assert.strictEqual((await call("ping", {})).kind, "ok")
    assert.deepStrictEqual(lost, [], "acknowledged writes were lost")
    assert.strictEqual(summary.hung, 0, "a call hung past the command timeout")
    assert.strictEqual(summary.other, 0, `untyped failures: ${summary.otherSamples.join(" | ")}`)
    assert.deepStrictEqual(unexpectedErrors(summary), [], "failures other than a connection fault's")
    assert.notInclude(summary.recoveryMs, -1, "writes did not resume after a flap")
    // Every SIGKILL drops the connection; a CLIENT KILL may land while it is still reconnecting.
    assert.isAtLeast(reconnects, FLAPS / 2)
    assert.isBelow(heapEnd.heapUsed, heapStart.heapUsed + HEAP_GROWTH_LIMIT, "the server's heap kept growing")
  })
})
