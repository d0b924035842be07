/**
 * The two ways to drive load in a fault scenario: the services in-process on a
 * real Redis, or the built server over stdio (with a heap probe); both with the
 * fault suite's short timeouts, and with their outcomes classified for the load.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, ConfigProvider, Effect, type Exit, Layer, ManagedRuntime, Option, References } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../../src/layers/Config.ts"
import { RedisClient } from "../../../src/layers/RedisClient.ts"
import { Kv } from "../../../src/services/Kv.ts"
import { State } from "../../../src/services/State.ts"
import { Tasks } from "../../../src/services/Tasks.ts"
import { type ServerUnderTest, startServer } from "../../e2e/client.ts"
import { sleep } from "../../support/wait.ts"
import { eventually, fromTag, keyWrites, lostWrites, messageOf, now, type Operation, type Outcome } from "./load.ts"

/** The command timeout every fault scenario runs with. */
export const TIMEOUT_MS = 1000

/** Short timeouts and fast reconnects, so faults resolve quickly. */
export const FAULT_ENV: Readonly<Record<string, string>> = {
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300"
}

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
    return { kind: "other", detail: `${name} threw: ${messageOf(e)}` }
  }
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
 * it runs a full GC and writes its `process.memoryUsage()` to stderr. Resolves
 * once a first `ping` succeeds (within `readyTimeoutMs`); `call` is `callTool` on it.
 */
export const startProbedServer = async (env: Readonly<Record<string, string>>, readyTimeoutMs = 30_000) => {
  const probe = join(mkdtempSync(join(tmpdir(), "fault-heap-")), "heap-probe.cjs")
  writeFileSync(probe, HEAP_PROBE)
  const server = await startServer({ ...FAULT_ENV, ...env, NODE_OPTIONS: `--require ${probe}` })
  const call = (name: string, args: Record<string, unknown> = {}) => callTool(server, name, args)
  try {
    await eventually(
      async () => ((await call("ping")).kind === "ok" ? true : undefined),
      "the first ping",
      readyTimeoutMs
    )
  } catch (e) {
    await server.close()
    throw e
  }
  const samples = () => server.stderr.filter((l) => l.startsWith("FAULT-HEAP "))
  const heap = async (): Promise<HeapSample> => {
    const before = samples().length
    const pid = server.pid
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
    const pid = server.pid
    if (pid === null) return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  return { server, call, heap, alive }
}

export type ProbedServer = Awaited<ReturnType<typeof startProbedServer>>
