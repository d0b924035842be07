/**
 * Soak run (outside `npm test`): the built server under steady load for many
 * minutes while faults repeat, checking what the fault suite checks, over a
 * longer time. Every call must answer with a result or a typed error (never
 * hang, never an untyped defect), nothing acknowledged may be lost, and the
 * server's heap after GC must not keep growing. Failures must be those of a
 * connection fault (RedisUnavailable, Timeout, RedisBusy); any other tag fails the run.
 *
 *   npm run build
 *   node scripts/soak.ts --minutes 10
 *   node scripts/soak.ts --minutes 30 --topology sentinel --workers 4 --fault-every 10
 *
 * (Use Node 24: `npx node scripts/soak.ts …` picks the project's own.)
 * Faults, in turn: standalone: CLIENT KILL TYPE normal, SIGKILL + restart (AOF),
 * CLIENT PAUSE and DEBUG SLEEP past the command timeout; sentinel: CLIENT KILL,
 * primary SIGKILLed (failover, the old primary restarted as a replica); cluster:
 * CLIENT KILL on every node, a primary SIGKILLed (replica promoted, the old
 * primary restarted as a replica). Prints `SOAK-HEAP` lines every minute and
 * `FAULT-REPORT` / `SOAK-RECOVERY` lines at the end; exits 1 on any failure.
 */
import { parseArgs } from "node:util"
import { Cluster } from "ioredis"
import { keyWrites, lostWrites, now, type Operation, runId, startLoad } from "../test/integration/faults/load.ts"
import { formatRecovery, MiB, report, summarize, unexpectedErrors } from "../test/integration/faults/report.ts"
import { type HeapSample, startProbedServer, TIMEOUT_MS } from "../test/integration/faults/targets.ts"
import { startCluster } from "../test/support/cluster.ts"
import { redisAvailable } from "../test/support/env.ts"
import { startSentinelSet } from "../test/support/sentinel.ts"
import { startRedis } from "../test/support/standalone.ts"
import { sleep } from "../test/support/wait.ts"

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    topology: { type: "string", default: "standalone" },
    workers: { type: "string", default: "2" },
    "fault-every": { type: "string", default: "5" },
    "heap-limit-mib": { type: "string", default: "64" }
  }
})
const minutes = Number(args.minutes)
const workers = Number(args.workers)
const faultEveryMs = Number(args["fault-every"]) * 1000
const heapLimit = Number(args["heap-limit-mib"]) * 1024 * 1024
const topologyName = args.topology
if (!(minutes > 0) || !(workers > 0) || !(faultEveryMs > 0) || !(heapLimit > 0)) {
  console.error(
    "usage: node scripts/soak.ts --minutes N [--topology standalone|sentinel|cluster] [--workers N] [--fault-every SECONDS] [--heap-limit-mib N]"
  )
  process.exit(2)
}
if (!redisAvailable()) {
  console.error("soak: redis-server, redis-sentinel and redis-cli must be on PATH (or REDIS_BIN_DIR)")
  process.exit(2)
}

interface Fault {
  readonly kind: string
  /** Inject the fault; call `mark()` the moment it takes effect; return once the topology is whole again. */
  readonly inject: (mark: () => void) => Promise<void>
}

interface Topology {
  readonly env: Record<string, string>
  readonly faults: ReadonlyArray<Fault>
  readonly read: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>
  readonly stop: () => Promise<void>
}

const standalone = async (): Promise<Topology> => {
  const redis = await startRedis({ aof: true })
  const reader = redis.client()
  return {
    env: { REDIS_URL: redis.url },
    faults: [
      {
        kind: "client-kill",
        inject: async (mark) => {
          await redis.command("CLIENT", "KILL", "TYPE", "normal")
          mark()
        }
      },
      {
        kind: "kill-restart",
        inject: async (mark) => {
          await redis.kill()
          mark()
          await sleep(1000)
          await redis.restart()
        }
      },
      {
        kind: "client-pause",
        inject: async (mark) => {
          await redis.pause(3 * TIMEOUT_MS)
          mark()
        }
      },
      {
        kind: "debug-sleep",
        inject: async (mark) => {
          await redis.debugSleep((3 * TIMEOUT_MS) / 1000)
          mark()
        }
      }
    ],
    read: (keys) => reader.mget(...keys),
    stop: () => redis.dispose()
  }
}

const sentinel = async (): Promise<Topology> => {
  const set = await startSentinelSet({ replicas: 1, sentinels: 3 })
  return {
    env: {
      REDIS_SENTINELS: set.sentinels.map((s) => `${s.host}:${s.port}`).join(","),
      REDIS_SENTINEL_MASTER: set.masterName
    },
    faults: [
      {
        kind: "client-kill",
        inject: async (mark) => {
          await (await set.primaryHandle()).command("CLIENT", "KILL", "TYPE", "normal")
          mark()
        }
      },
      {
        kind: "primary-killed",
        inject: async (mark) => {
          const old = (await set.primary()).port
          const handle = await set.killPrimary()
          mark()
          await set.waitForPrimaryChange(old, 60_000)
          await handle.restart()
          await set.waitForHealthy(60_000)
        }
      }
    ],
    read: async (keys) => (await set.primaryHandle()).client().mget(...keys),
    stop: () => set.stop()
  }
}

const cluster = async (): Promise<Topology> => {
  const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  let victim = 0
  return {
    env: { REDIS_CLUSTER_NODES: c.seeds.map((s) => `${s.host}:${s.port}`).join(",") },
    faults: [
      {
        kind: "client-kill",
        inject: async (mark) => {
          await Promise.all(c.nodes.map((n) => n.command("CLIENT", "KILL", "TYPE", "normal")))
          mark()
        }
      },
      {
        kind: "primary-killed",
        inject: async (mark) => {
          const primaries = await c.primaries()
          const port = primaries[victim++ % primaries.length]!.port
          await c.killNode(port)
          mark()
          await c.waitForFailover(port, 60_000)
          await c.restartNode(port)
          await c.waitForClusterOk(60_000)
        }
      }
    ],
    read: async (keys) => {
      const reader = new Cluster(c.seeds.map((s) => ({ host: s.host, port: s.port })))
      try {
        return await Promise.all(keys.map((k) => reader.get(k)))
      } finally {
        reader.disconnect()
      }
    },
    stop: () => c.stop()
  }
}

const topologies: Record<string, () => Promise<Topology>> = { standalone, sentinel, cluster }
const makeTopology = topologies[topologyName]
if (makeTopology === undefined) {
  console.error(`soak: unknown topology "${topologyName}" (standalone, sentinel or cluster)`)
  process.exit(2)
}

const main = async () => {
  const topology = await makeTopology()
  const { server, call, heap, alive } = await startProbedServer(
    { ...topology.env, REDIS_MCP_LOG_LEVEL: "warn" },
    60_000
  )

  const id = runId(`soak-${topologyName}`)
  const namespace = id.replaceAll(":", "-")
  const keys = keyWrites(id)
  const patched = new Map<string, Map<string, number>>()
  const created = new Map<string, number>()
  const completed = new Set<string>()
  // Many small documents rather than one that grows for the whole run.
  const docOf = (n: number) => `doc-${Math.floor(n / 400)}`
  const operations: Array<(n: number) => Operation> = [
    (n) => keys.operation("set", n, (key, value) => call("set", { key, value })),
    (n) => ({
      op: "state_patch",
      run: () => call("state_patch", { namespace, key: docOf(n), patch: { [`f${n}`]: n } }),
      onOk: () => {
        const fields = patched.get(docOf(n)) ?? new Map<string, number>()
        fields.set(`f${n}`, n)
        patched.set(docOf(n), fields)
      }
    }),
    (n) => ({
      op: "task_create",
      run: () => call("task_create", { queue: namespace, payload: { n } }),
      onOk: (v) => created.set((v as { taskId: string }).taskId, n)
    }),
    () => ({
      op: "task_claim+complete",
      run: async () => {
        const claimed = await call("task_claim", { queue: namespace, worker: "soak", leaseSeconds: 60 })
        if (claimed.kind !== "ok") return claimed
        const task = (claimed.value as { tasks: Array<{ taskId: string; leaseToken: string }> }).tasks[0]
        if (task === undefined) return { kind: "ok", value: {} }
        const done = await call("task_complete", { queue: namespace, taskId: task.taskId, leaseToken: task.leaseToken })
        return done.kind === "ok" ? { kind: "ok", value: { taskId: task.taskId } } : done
      },
      onOk: (v) => {
        const taskId = (v as { taskId?: string }).taskId
        if (taskId !== undefined) completed.add(taskId)
      }
    })
  ]
  const load = startLoad({ workers, hangAfterMs: TIMEOUT_MS + 4000, maxCalls: Number.MAX_SAFE_INTEGER }, (n) =>
    operations[n % operations.length]!(n)
  )

  const startedAt = now()
  const endAt = startedAt + minutes * 60_000
  const heaps: Array<HeapSample> = []
  const sampleHeap = async () => {
    const h = await heap()
    heaps.push(h)
    console.error(
      `SOAK-HEAP t=${Math.round((now() - startedAt) / 1000)}s heapUsedMiB=${MiB(h.heapUsed)} heapTotalMiB=${MiB(h.heapTotal)} externalMiB=${MiB(h.external)} rssMiB=${MiB(h.rss)} calls=${load.records.length}`
    )
  }
  await load.settle(200)
  await sampleHeap()
  let nextHeapAt = now() + 60_000

  const faults: Array<{ kind: string; at: number }> = []
  for (let i = 0; now() < endAt; i++) {
    await sleep(Math.min(faultEveryMs, Math.max(0, endAt - now())))
    // Timers may fire a little early: no fault in the last moment of the run.
    if (endAt - now() < 100) break
    const fault = topology.faults[i % topology.faults.length]!
    await fault.inject(() => faults.push({ kind: fault.kind, at: now() }))
    if (now() >= nextHeapAt) {
      await sampleHeap()
      nextHeapAt = now() + 60_000
    }
  }
  if (faults.length > 0) await load.firstOkSince(faults.at(-1)!.at, 60_000).catch(() => undefined)
  await load.settle(100)
  const records = await load.stop()
  await sampleHeap()

  const lost = [...(await lostWrites(keys.acknowledged, topology.read))]
  for (const [doc, fields] of patched) {
    const got = await call("state_get", { namespace, key: doc })
    const value = got.kind === "ok" ? (got.value as { value: Record<string, number> }).value : {}
    for (const [field, n] of fields) if (value[field] !== n) lost.push(`state_patch ${doc}.${field}`)
  }
  const stats = await call("queue_stats", { queue: namespace })
  const total = stats.kind === "ok" ? (stats.value as { total: number }).total : -1
  if (total < created.size) lost.push(`tasks: ${created.size} acknowledged, ${total} in the queue`)
  for (const [taskId, n] of [...created].slice(-200)) {
    const got = await call("task_get", { queue: namespace, taskId })
    if (got.kind !== "ok" || (got.value as { payload: { n: number } }).payload.n !== n) lost.push(`task ${taskId}`)
  }
  for (const taskId of [...completed].slice(-200)) {
    const got = await call("task_get", { queue: namespace, taskId })
    if (got.kind !== "ok" || (got.value as { status: string }).status !== "completed") lost.push(`completed ${taskId}`)
  }

  const first = heaps[0]!
  const last = heaps.at(-1)!
  const summary = report(
    summarize(
      `soak-${topologyName}`,
      records,
      faults.map((f) => f.at),
      lost.length
    ),
    {
      minutes,
      workers,
      faults: faults.length,
      sets: keys.acknowledged.size,
      tasksCreated: created.size,
      tasksCompleted: completed.size,
      heapStartMiB: MiB(first.heapUsed),
      heapEndMiB: MiB(last.heapUsed),
      heapMaxMiB: MiB(Math.max(...heaps.map((h) => h.heapUsed))),
      rssEndMiB: MiB(last.rss)
    }
  )
  for (const kind of new Set(faults.map((f) => f.kind))) {
    const times = summarize(
      kind,
      records,
      faults.filter((f) => f.kind === kind).map((f) => f.at),
      0
    ).recoveryMs
    console.error(
      `SOAK-RECOVERY kind=${kind} faults=${times.length} recoveryMs=${formatRecovery([...times].sort((a, b) => a - b))}`
    )
  }

  const problems: Array<string> = []
  if (lost.length > 0) problems.push(`${lost.length} acknowledged writes lost, e.g. ${lost.slice(0, 5).join("; ")}`)
  if (summary.hung > 0) problems.push(`${summary.hung} calls hung`)
  const unexpected = unexpectedErrors(summary)
  if (unexpected.length > 0) problems.push(`failures other than a connection fault's: ${unexpected.join(" | ")}`)
  if (summary.other > 0) problems.push(`${summary.other} untyped failures, e.g. ${summary.otherSamples.join(" | ")}`)
  if (summary.recoveryMs.includes(-1)) problems.push("writes did not resume after a fault")
  if (!alive()) problems.push("the server process exited")
  if (last.heapUsed > first.heapUsed + heapLimit)
    problems.push(`heap grew from ${MiB(first.heapUsed)} to ${MiB(last.heapUsed)} MiB`)
  await server.close()
  await topology.stop()
  if (problems.length > 0) {
    console.error(`SOAK FAILED: ${problems.join("; ")}`)
    process.exitCode = 1
  } else console.error("SOAK PASSED")
}

main().catch((e: unknown) => {
  console.error("SOAK FAILED:", e)
  process.exitCode = 1
})
