/**
 * Scenario 4: the built server (dist/main.js over stdio) writes keys, state
 * documents and tasks under steady load while its Redis (AOF, appendfsync always)
 * is SIGKILLed and restarted. Calls fail with typed errors while it is down, the
 * server reconnects by itself, and everything acknowledged survives: every `set`
 * value, every `state_set` document at its acknowledged version, every field an
 * acknowledged `state_patch` wrote (at a version at least as high), every created
 * task, and tasks claimed before the restart, still active under their lease.
 */
import { assert, describe, it } from "@effect/vitest"
import { sleep } from "../../support/wait.ts"
import { useProbedServerOnAofRedis } from "./hooks.ts"
import { keyWrites, lostWrites, now, type Operation, runId, startLoad } from "./load.ts"
import { report, summarize, unexpectedErrors } from "./report.ts"
import { TIMEOUT_MS } from "./targets.ts"

const DOWNTIME_MS = 1000

describe("Redis with AOF restarted under load, through the built server", () => {
  const target = useProbedServerOnAofRedis()

  it("acknowledged sets, state versions and tasks (created and claimed) all survive", async () => {
    const id = runId("aof")
    const namespace = id.replaceAll(":", "-")
    const queue = namespace
    const claimQueue = `${namespace}-claimed`
    const { call } = target.probed()
    const redis = target.redis()

    // Tasks claimed before the fault: their leases must outlive the restart.
    for (let i = 0; i < 5; i++)
      assert.strictEqual((await call("task_create", { queue: claimQueue, payload: { i } })).kind, "ok")
    const claim = await call("task_claim", { queue: claimQueue, worker: "w1", leaseSeconds: 600, count: 5 })
    assert.strictEqual(claim.kind, "ok")
    const claimed = (claim as { value: { tasks: Array<{ taskId: string; leaseToken: string }> } }).value.tasks
    assert.strictEqual(claimed.length, 5)

    const keys = keyWrites(id)
    const documents = new Map<string, { value: unknown; version: number }>()
    const patched = new Map<string, number>()
    let patchVersion = 0
    const tasks = new Map<string, number>()
    const operations: Array<(n: number) => Operation> = [
      (n) => keys.operation("set", n, (key, value) => call("set", { key, value })),
      (n) => ({
        op: "state_set",
        run: () => call("state_set", { namespace, key: `doc-${n}`, value: { n } }),
        onOk: (v) => documents.set(`doc-${n}`, { value: { n }, version: (v as { version: number }).version })
      }),
      (n) => ({
        op: "state_patch",
        run: () => call("state_patch", { namespace, key: "shared", patch: { [`f${n}`]: n } }),
        onOk: (v) => {
          patched.set(`f${n}`, n)
          patchVersion = Math.max(patchVersion, (v as { version: number }).version)
        }
      }),
      (n) => ({
        op: "task_create",
        run: () => call("task_create", { queue, payload: { n } }),
        onOk: (v) => tasks.set((v as { taskId: string }).taskId, n)
      })
    ]
    const load = startLoad({ workers: 2, hangAfterMs: TIMEOUT_MS + 4000 }, (n) => operations[n % operations.length]!(n))
    await load.settle(80)
    await redis.kill()
    const faultAt = now()
    // Stay down a while, so calls meet a dead Redis and the reconnect backoff runs.
    await sleep(DOWNTIME_MS)
    await redis.restart()
    await load.firstOkSince(faultAt, 30_000)
    await load.settle(80)
    const records = await load.stop()

    const reader = redis.client()
    const lost = [...(await lostWrites(keys.acknowledged, (batch) => reader.mget(...batch)))]
    for (const [key, doc] of documents) {
      const got = await call("state_get", { namespace, key })
      const v = got.kind === "ok" ? (got.value as { value: unknown; version: number }) : undefined
      if (v === undefined || JSON.stringify(v.value) !== JSON.stringify(doc.value) || v.version !== doc.version) {
        lost.push(`state ${key}: acknowledged version ${doc.version}, read ${JSON.stringify(got)}`)
      }
    }
    const shared = await call("state_get", { namespace, key: "shared" })
    assert.strictEqual(shared.kind, "ok")
    const doc = (shared as { value: { value: Record<string, number>; version: number } }).value
    assert.isAtLeast(doc.version, patchVersion, "the shared document went back to an older version")
    for (const [field, n] of patched) if (doc.value[field] !== n) lost.push(`state_patch ${field}`)
    for (const [taskId, n] of tasks) {
      const got = await call("task_get", { queue, taskId })
      const t = got.kind === "ok" ? (got.value as { status: string; payload: { n: number } }) : undefined
      if (t === undefined || t.status !== "waiting" || t.payload.n !== n)
        lost.push(`task ${taskId}: ${JSON.stringify(got)}`)
    }
    for (const { taskId, leaseToken } of claimed) {
      const got = await call("task_get", { queue: claimQueue, taskId })
      const active = got.kind === "ok" && (got.value as { status: string }).status === "active"
      const done = await call("task_complete", { queue: claimQueue, taskId, leaseToken, result: { ok: true } })
      if (!active || done.kind !== "ok")
        lost.push(`claimed task ${taskId}: ${JSON.stringify(got)} ${JSON.stringify(done)}`)
    }

    const summary = report(summarize("aof-restart", records, [faultAt], lost.length), {
      sets: keys.acknowledged.size,
      stateSets: documents.size,
      statePatches: patched.size,
      tasksCreated: tasks.size,
      tasksClaimed: claimed.length
    })
    assert.deepStrictEqual(lost, [], "acknowledged writes were lost")
    assert.strictEqual(summary.hung, 0, "a call hung past the command timeout")
    assert.strictEqual(summary.other, 0, `untyped failures: ${summary.otherSamples.join(" | ")}`)
    assert.deepStrictEqual(unexpectedErrors(summary), [], "failures other than a connection fault's")
    assert.isAbove(keys.acknowledged.size, 0)
    assert.isAbove(documents.size, 0)
    assert.isAbove(patched.size, 0)
    assert.isAbove(tasks.size, 0)
  })
})
