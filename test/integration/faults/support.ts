/**
 * Fault-injection support: a load generator (a bounded loop of calls that records
 * every call's outcome: acknowledged, typed error tag, or other), the two ways to
 * drive load (the services in-process, or the built server over stdio), the check
 * that nothing acknowledged was lost, and the one-line `FAULT-REPORT` summary.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Cause, ConfigProvider, Effect, type Exit, Layer, ManagedRuntime, Option, References } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../../src/layers/Config.ts"
import { RedisClient } from "../../../src/layers/RedisClient.ts"
import { Kv } from "../../../src/services/Kv.ts"
import { State } from "../../../src/services/State.ts"
import { Tasks } from "../../../src/services/Tasks.ts"
import { type ServerUnderTest, startServer } from "../../e2e/client.ts"
import { sleep } from "../../support/wait.ts"

/** The command timeout every fault scenario runs with. */
export const TIMEOUT_MS = 1000

/** Short timeouts and fast reconnects, so faults resolve quickly. */
export const FAULT_ENV: Readonly<Record<string, string>> = {
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300"
}

/** Every tag of a typed error (src/Errors.ts). Anything else is an untyped defect ("other"). */
export const TYPED_TAGS: ReadonlySet<string> = new Set([
  "RedisUnavailable",
  "Timeout",
  "WrongType",
  "PermissionDenied",
  "OutOfMemory",
  "RedisBusy",
  "RedisCommandError",
  "InvalidArgument",
  "NotFound",
  "TooLarge",
  "ReadOnlyMode",
  "VersionConflict",
  "LeaseExpired",
  "DependencyFailed"
])

/** What one call came back with. */
export type Outcome =
  | { readonly kind: "ok"; readonly value: unknown }
  | { readonly kind: "error"; readonly tag: string; readonly message: string }
  | { readonly kind: "other"; readonly detail: string }

/** One call as the load generator saw it. Times are `now()` milliseconds. */
export interface CallRecord {
  readonly op: string
  readonly worker: number
  readonly startedAt: number
  readonly endedAt: number
  /** `hung`: still pending `hangAfterMs` after it started. */
  readonly kind: "ok" | "error" | "other" | "hung"
  readonly tag?: string
  /** The error's message (cut), or what went wrong for "other". */
  readonly detail?: string
}

/** Monotonic milliseconds; fault times and call records share this clock. */
export const now = (): number => performance.now()

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** A failure tag: typed when it is one of `TYPED_TAGS`, otherwise "other". */
export const fromTag = (tag: string, message: string): Outcome =>
  TYPED_TAGS.has(tag) ? { kind: "error", tag, message } : { kind: "other", detail: `${tag}: ${message}` }

/**
 * The tags a connection fault may surface as: all retryable. Any other error
 * during a fault (RedisCommandError, WrongType…) is a bug.
 */
export const CONNECTION_TAGS: ReadonlySet<string> = new Set(["RedisUnavailable", "Timeout", "RedisBusy"])

/** "op Tag: message" of the errors (the first per op and tag) that a connection fault does not explain. */
export const unexpectedErrors = (s: Summary): ReadonlyArray<string> =>
  s.errorSamples.filter((e) => !CONNECTION_TAGS.has(e.tag)).map(formatError)

const formatError = (e: ErrorSample) => `${e.op} ${e.tag}: ${e.message}`

/** The outcome of an Effect run in-process: a typed failure keeps its tag; a defect or interruption is "other". */
export const fromExit = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (exit._tag === "Success") return { kind: "ok", value: exit.value }
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) {
    const e = error.value as { readonly _tag?: unknown; readonly message?: unknown }
    return typeof e._tag === "string"
      ? fromTag(e._tag, String(e.message))
      : { kind: "other", detail: `untagged failure: ${String(error.value)}` }
  }
  return { kind: "other", detail: Cause.pretty(exit.cause) }
}

/** The outcome of a tool call on the built server; a thrown JSON-RPC or transport error is "other". */
export const callTool = async (
  server: ServerUnderTest,
  name: string,
  args: Record<string, unknown> = {}
): Promise<Outcome> => {
  try {
    const result = await server.call(name, args)
    return result.ok ? { kind: "ok", value: result.value } : fromTag(result.error.tag, result.error.message)
  } catch (e) {
    return { kind: "other", detail: `${name} threw: ${describe(e)}` }
  }
}

/** One call the load generator makes; `onOk` runs only when it is acknowledged in time. */
export interface Operation {
  readonly op: string
  readonly run: () => Promise<Outcome>
  readonly onOk?: (value: unknown) => void
}

/** Which calls count: an op name, a test on it, or (undefined) every call. */
export type OpFilter = string | ((op: string) => boolean) | undefined

const matches = (filter: OpFilter, op: string) =>
  filter === undefined || (typeof filter === "string" ? filter === op : filter(op))

export interface LoadOptions {
  /** Concurrent loops, each making one call at a time. @default 2 */
  readonly workers?: number
  /** Pause between two calls of one loop, so the load stays modest on a shared machine. @default 5 */
  readonly pauseMs?: number
  /** Upper bound on the calls of the whole run. @default 100000 */
  readonly maxCalls?: number
  /** A call still pending this long after it started is recorded as `hung` (and the loop moves on). */
  readonly hangAfterMs: number
}

export interface Load {
  readonly records: ReadonlyArray<CallRecord>
  /** The first acknowledged call (of `op`, when given) that started at or after `since`; fails after `timeoutMs`. */
  readonly firstOkSince: (since: number, timeoutMs: number, op?: OpFilter) => Promise<CallRecord>
  /** Wait until `count` more calls have finished (whatever their outcome). */
  readonly settle: (count: number) => Promise<void>
  /** Stop every loop and wait for the calls in flight (hung ones are not awaited). */
  readonly stop: () => Promise<ReadonlyArray<CallRecord>>
}

type Settled = { readonly outcome: Outcome } | { readonly hung: true }

/** Start a bounded loop of calls (`next(n, worker)` gives the n-th call) that records every outcome. */
export const startLoad = (options: LoadOptions, next: (n: number, worker: number) => Operation): Load => {
  const records: Array<CallRecord> = []
  const maxCalls = options.maxCalls ?? 100_000
  const pauseMs = options.pauseMs ?? 5
  let stopped = false
  let issued = 0

  const callOnce = async (operation: Operation, worker: number) => {
    const startedAt = now()
    let timer: NodeJS.Timeout | undefined
    const hang = new Promise<Settled>((resolve) => {
      timer = setTimeout(() => resolve({ hung: true }), options.hangAfterMs)
    })
    const settled = await Promise.race([
      operation.run().then(
        (outcome): Settled => ({ outcome }),
        (e: unknown): Settled => ({ outcome: { kind: "other", detail: `rejected: ${describe(e)}` } })
      ),
      hang
    ])
    clearTimeout(timer)
    const endedAt = now()
    const base = { op: operation.op, worker, startedAt, endedAt }
    if ("hung" in settled) {
      records.push({ ...base, kind: "hung" })
      return
    }
    const outcome = settled.outcome
    if (outcome.kind === "ok") {
      operation.onOk?.(outcome.value)
      records.push({ ...base, kind: "ok" })
    } else if (outcome.kind === "error")
      records.push({ ...base, kind: "error", tag: outcome.tag, detail: outcome.message.slice(0, 300) })
    else records.push({ ...base, kind: "other", detail: outcome.detail })
  }

  const loop = async (worker: number) => {
    while (!stopped && issued < maxCalls) {
      const n = issued++
      await callOnce(next(n, worker), worker)
      if (pauseMs > 0) await sleep(pauseMs)
    }
  }
  const loops = Array.from({ length: options.workers ?? 2 }, (_, worker) => loop(worker))

  const poll = async <A>(probe: () => A | undefined, timeoutMs: number, what: string): Promise<A> => {
    const deadline = now() + timeoutMs
    for (;;) {
      const found = probe()
      if (found !== undefined) return found
      if (now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
      if (stopped || issued >= maxCalls) throw new Error(`${what}: the load stopped first`)
      await sleep(20)
    }
  }

  return {
    records,
    firstOkSince: (since, timeoutMs, op) =>
      poll(
        () => records.find((r) => r.kind === "ok" && r.startedAt >= since && matches(op, r.op)),
        timeoutMs,
        "an acknowledged call after the fault"
      ),
    settle: (count) => {
      const target = records.length + count
      return poll(() => (records.length >= target ? true : undefined), 30_000, `${count} more calls`).then(() => {})
    },
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      return records
    }
  }
}

/** Keys and values written by `set` calls: a unique key per call, remembered once acknowledged. */
export const keyWrites = (prefix: string) => {
  const acknowledged = new Map<string, string>()
  const operation = (
    op: string,
    n: number,
    write: (key: string, value: string) => Promise<Outcome>,
    key = `${prefix}:${n}`
  ): Operation => {
    const value = `v${n}-${Math.random().toString(36).slice(2, 10)}`
    return { op, run: () => write(key, value), onOk: () => acknowledged.set(key, value) }
  }
  return { acknowledged, operation }
}

/** Runs one service call in-process (see `inProcess`). */
export type ServiceRunner = <X, Y>(effect: Effect.Effect<X, Y, Kv | State | Tasks>) => Promise<Outcome>

/**
 * Writes through the Kv, Tasks and State services that remember what was
 * acknowledged: `set` of a unique key, `task_create` with a unique payload, and
 * `state_patch` adding a unique field. `verify` lists what is missing afterwards
 * (keys through `readKeys`, an independent client; tasks and documents through
 * the services).
 */
export const serviceWrites = (run: ServiceRunner, prefix: string) => {
  const keys = keyWrites(prefix)
  const tasks = new Map<string, { readonly queue: string; readonly n: number }>()
  const fields = new Map<string, { readonly namespace: string; readonly doc: string; readonly n: number }>()
  return {
    keys,
    set: (op: string, n: number, key?: string): Operation =>
      keys.operation(op, n, (k, value) => run(Effect.flatMap(Kv, (kv) => kv.set(k, value))), key),
    task: (op: string, n: number, queue: string): Operation => ({
      op,
      run: () => run(Effect.flatMap(Tasks, (t) => t.create({ queue, payload: { n } }))),
      onOk: (v) => tasks.set((v as { taskId: string }).taskId, { queue, n })
    }),
    patch: (op: string, n: number, namespace: string, doc: string): Operation => ({
      op,
      run: () => run(Effect.flatMap(State, (s) => s.patch(namespace, doc, { [`f${n}`]: n }))),
      onOk: () => fields.set(`f${n}`, { namespace, doc, n })
    }),
    acknowledged: () => ({ keys: keys.acknowledged.size, tasks: tasks.size, patches: fields.size }),
    verify: async (
      readKeys: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>
    ): Promise<Array<string>> => {
      const lost = [...(await lostWrites(keys.acknowledged, readKeys))]
      for (const [taskId, { queue, n }] of tasks) {
        const got = await run(Effect.flatMap(Tasks, (t) => t.get({ queue, taskId })))
        if (got.kind !== "ok" || (got.value as { payload: { n: number } }).payload.n !== n) {
          lost.push(`task ${queue}/${taskId}: ${JSON.stringify(got).slice(0, 200)}`)
        }
      }
      const docs = new Map<string, Record<string, unknown>>()
      for (const [field, { namespace, doc, n }] of fields) {
        let value = docs.get(`${namespace}/${doc}`)
        if (value === undefined) {
          const got = await run(Effect.flatMap(State, (s) => s.get(namespace, doc)))
          value = got.kind === "ok" ? ((got.value as { value: Record<string, unknown> }).value ?? {}) : {}
          docs.set(`${namespace}/${doc}`, value)
        }
        if (value[field] !== n) lost.push(`state_patch ${namespace}/${doc} field ${field}`)
      }
      return lost
    }
  }
}

/**
 * The acknowledged writes that are not readable with their value. `read` gets
 * batches of keys and returns their values in order (null when missing).
 */
export const lostWrites = async (
  acknowledged: ReadonlyMap<string, string>,
  read: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>
): Promise<ReadonlyArray<string>> => {
  const lost: Array<string> = []
  const entries = [...acknowledged]
  for (let i = 0; i < entries.length; i += 500) {
    const batch = entries.slice(i, i + 500)
    const values = await read(batch.map(([k]) => k))
    batch.forEach(([k, v], j) => {
      if (values[j] !== v) lost.push(`${k}: expected ${v}, read ${values[j] ?? "nothing"}`)
    })
  }
  return lost
}

/** Everything one scenario measured. */
export interface Summary {
  readonly scenario: string
  readonly calls: number
  readonly ok: number
  readonly failed: Readonly<Record<string, number>>
  readonly other: number
  readonly hung: number
  /** Per fault: from the fault to the end of the first acknowledged call started after it (-1: none). */
  readonly recoveryMs: ReadonlyArray<number>
  readonly maxLatencyMs: number
  readonly lost: number
  /** Samples of what went wrong (untyped failures, hung calls). */
  readonly otherSamples: ReadonlyArray<string>
  /** The first error of each op and tag. */
  readonly errorSamples: ReadonlyArray<ErrorSample>
}

export interface ErrorSample {
  readonly op: string
  readonly tag: string
  readonly message: string
}

/** Count the records and measure recovery after each fault (optionally only over calls of `op`). */
export const summarize = (
  scenario: string,
  records: ReadonlyArray<CallRecord>,
  faults: ReadonlyArray<number>,
  lost: number,
  op?: OpFilter
): Summary => {
  const failed: Record<string, number> = {}
  let ok = 0
  let other = 0
  let hung = 0
  let maxLatencyMs = 0
  const otherSamples: Array<string> = []
  const errorSamples = new Map<string, ErrorSample>()
  for (const r of records) {
    if (r.kind === "ok") ok++
    else if (r.kind === "error") {
      failed[r.tag!] = (failed[r.tag!] ?? 0) + 1
      const key = `${r.op} ${r.tag}`
      if (!errorSamples.has(key)) errorSamples.set(key, { op: r.op, tag: r.tag!, message: r.detail ?? "" })
    } else if (r.kind === "hung") hung++
    else other++
    if (r.kind === "other" || r.kind === "hung") {
      if (otherSamples.length < 5) otherSamples.push(`${r.op}: ${r.kind === "hung" ? "hung" : r.detail}`)
    } else maxLatencyMs = Math.max(maxLatencyMs, r.endedAt - r.startedAt)
  }
  if (process.env.FAULT_TRACE) traceRecords(scenario, records, faults)
  const ordered = records.filter((r) => r.kind === "ok" && matches(op, r.op))
  const recoveryMs = faults.map((fault) => {
    let first: CallRecord | undefined
    for (const r of ordered) if (r.startedAt >= fault && (first === undefined || r.endedAt < first.endedAt)) first = r
    return first === undefined ? -1 : Math.round(first.endedAt - fault)
  })
  return {
    scenario,
    calls: records.length,
    ok,
    failed,
    other,
    hung,
    recoveryMs,
    maxLatencyMs: Math.round(maxLatencyMs),
    lost,
    otherSamples,
    errorSamples: [...errorSamples.values()]
  }
}

/** FAULT_TRACE=1: print every call that ended within 200 ms before a fault or in the 30 s after it. */
const traceRecords = (scenario: string, records: ReadonlyArray<CallRecord>, faults: ReadonlyArray<number>) => {
  for (const fault of faults) {
    for (const r of records) {
      if (r.endedAt < fault - 200 || r.startedAt > fault + 30_000) continue
      const at = (t: number) => Math.round(t - fault)
      const what = r.kind === "error" ? r.tag : r.kind === "other" ? r.detail : r.kind
      console.error(`FAULT-TRACE ${scenario} ${r.op}#${r.worker} ${at(r.startedAt)}..${at(r.endedAt)} ms ${what}`)
    }
  }
}

/** Each recovery time, or for many faults (a soak) their median, 95th percentile and maximum. */
export const formatRecovery = (times: ReadonlyArray<number>): string => {
  if (times.length <= 10) return times.join(",")
  const seen = times.filter((t) => t >= 0).sort((a, b) => a - b)
  const at = (q: number) => seen[Math.min(seen.length - 1, Math.floor(q * seen.length))] ?? -1
  return `p50:${at(0.5)},p95:${at(0.95)},max:${seen.at(-1) ?? -1},faults:${times.length},unrecovered:${times.length - seen.length}`
}

/** Print the scenario's summary to stderr as one `FAULT-REPORT` line. */
export const report = (s: Summary, extra: Readonly<Record<string, string | number>> = {}): Summary => {
  const failedTotal = Object.values(s.failed).reduce((a, b) => a + b, 0)
  const byTag = Object.entries(s.failed)
    .sort(([, a], [, b]) => b - a)
    .map(([tag, n]) => `${tag}:${n}`)
    .join(",")
  const fields: Array<string> = [
    `scenario=${s.scenario}`,
    `calls=${s.calls}`,
    `acknowledged=${s.ok}`,
    `failed=${failedTotal}${byTag === "" ? "" : `(${byTag})`}`,
    `other=${s.other}`,
    `hung=${s.hung}`,
    `lost=${s.lost}`,
    `recoveryMs=${formatRecovery(s.recoveryMs)}`,
    `maxLatencyMs=${s.maxLatencyMs}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)
  ]
  console.error(`FAULT-REPORT ${fields.join(" ")}`)
  if (s.otherSamples.length > 0) console.error(`FAULT-REPORT-SAMPLES ${s.scenario}: ${s.otherSamples.join(" | ")}`)
  for (const sample of process.env.FAULT_TRACE ? s.errorSamples.map(formatError) : unexpectedErrors(s)) {
    console.error(`FAULT-REPORT-ERROR ${s.scenario} ${sample}`)
  }
  return s
}

/** The services on a real Redis, in this process: `layer` needs RedisClient and the configs, which this provides. */
export const inProcess = async <A, E>(
  layer: Layer.Layer<A, E, RedisClient | RedisConfig | ServerConfig>,
  env: Readonly<Record<string, string>>
) => {
  const provider = ConfigProvider.fromEnvRecord({ ...FAULT_ENV, ...env })
  const config = Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
  const runtime = ManagedRuntime.make(
    layer.pipe(
      Layer.provideMerge(RedisClient.layer),
      Layer.provideMerge(config),
      Layer.provideMerge(Layer.succeed(References.MinimumLogLevel, "Error"))
    )
  )
  await runtime.runPromise(Effect.flatMap(RedisClient, (redis) => redis.awaitReady(20_000)))
  return {
    runtime,
    /** Run one service call and classify its exit. */
    call: <X, Y>(effect: Effect.Effect<X, Y, A | RedisClient | RedisConfig | ServerConfig>): Promise<Outcome> =>
      runtime.runPromiseExit(effect).then(fromExit),
    dispose: () => runtime.dispose()
  }
}

const HEAP_PROBE = `"use strict";
const gc = (() => { require("node:v8").setFlagsFromString("--expose-gc"); return require("node:vm").runInNewContext("gc") })();
process.on("SIGUSR2", () => {
  gc(); gc();
  const m = process.memoryUsage();
  process.stderr.write("FAULT-HEAP " + JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, rss: m.rss }) + "\\n");
});
`

export interface HeapSample {
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly rss: number
}

/**
 * The built server (dist/main.js) over stdio, preloaded with a probe: on SIGUSR2
 * it runs a full GC and writes its `process.memoryUsage()` to stderr.
 */
export const startProbedServer = async (env: Readonly<Record<string, string>>) => {
  const probe = join(mkdtempSync(join(tmpdir(), "fault-heap-")), "heap-probe.cjs")
  writeFileSync(probe, HEAP_PROBE)
  const server = await startServer({ ...FAULT_ENV, ...env, NODE_OPTIONS: `--require ${probe}` })
  const samples = () => server.stderr.filter((l) => l.startsWith("FAULT-HEAP "))
  const heap = async (): Promise<HeapSample> => {
    const before = samples().length
    const pid = server.transport.pid
    if (pid === null) throw new Error("the server process is gone")
    process.kill(pid, "SIGUSR2")
    const deadline = now() + 10_000
    while (samples().length === before) {
      if (now() > deadline) throw new Error("the server did not answer the heap probe")
      await sleep(20)
    }
    return JSON.parse(samples()[before]!.slice("FAULT-HEAP ".length)) as HeapSample
  }
  const alive = () => {
    const pid = server.transport.pid
    if (pid === null) return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  return { server, heap, alive }
}

/** Poll `probe` until it returns a value (for events in other processes we cannot subscribe to). */
export const eventually = async <A>(
  probe: () => Promise<A | undefined>,
  what: string,
  timeoutMs = 30_000
): Promise<A> => {
  const deadline = now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

/** A random prefix so each run writes its own keys. */
export const runId = (name: string) => `fault:${name}:${Math.random().toString(36).slice(2, 8)}`
