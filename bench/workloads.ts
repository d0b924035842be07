/**
 * What is measured (the targets of issue 12) and, for each kind of server,
 * the operation one timed call of a target stands for.
 */
import type { Redis } from "ioredis"
import { WrongAnswer } from "./raw-wire.ts"
import type { Plan } from "./stats.ts"

export type Call = (name: string, args: Record<string, unknown>) => Promise<unknown>
/** One timed operation; `i` numbers the calls so keys can vary. */
export type Op = (i: number) => Promise<unknown>

/** How a workload talks to a server. */
export interface Client {
  /** Call a tool and get its output (structuredContent, else content); throws on an error result. */
  readonly call: Call
  /**
   * A call fixed in advance, serialised once where the client can (the raw driver); the
   * answer is checked, not returned. `expect`, when given, must occur in the answer (raw driver only).
   */
  readonly prepare: (name: string, args: Record<string, unknown>, expect?: string) => () => Promise<unknown>
  /**
   * A call serialised once whose answer is checked as a prepared one's and resolves with its line
   * as sent (the raw driver only): a workload reads what it needs from it without parsing it all.
   */
  readonly prepareText?: (name: string, args: Record<string, unknown>) => () => Promise<string>
}

/** A client with nothing to prepare (the SDK clients, HTTP): a prepared call is a plain call. */
export const unprepared = (call: Call): Client => ({ call, prepare: (name, args) => () => call(name, args) })

export type TargetId =
  | "get"
  | "get16"
  | "set"
  | "taskCycle"
  | "statePatch"
  | "pipeline"
  | "httpGet"
  | "httpGet16"
  | "spawn"
  | "rss"

export type Unit = "calls/s" | "cycles/s" | "pipelines/s" | "ms" | "MiB"

export interface Target {
  readonly id: TargetId
  readonly label: string
  readonly unit: Unit
}

export const TARGETS: ReadonlyArray<Target> = [
  { id: "get", label: "get, sequential", unit: "calls/s" },
  { id: "get16", label: "get, 16 in flight", unit: "calls/s" },
  { id: "set", label: "set, sequential", unit: "calls/s" },
  { id: "taskCycle", label: "task create+claim+complete", unit: "cycles/s" },
  { id: "statePatch", label: "state_patch, sequential", unit: "calls/s" },
  { id: "pipeline", label: "pipeline of 1000 SETs", unit: "pipelines/s" },
  { id: "httpGet", label: "HTTP get, sequential", unit: "calls/s" },
  { id: "httpGet16", label: "HTTP get, 16 in flight", unit: "calls/s" },
  { id: "spawn", label: "spawn → first tools/list", unit: "ms" },
  { id: "rss", label: "RSS after the run", unit: "MiB" }
]

export const target = (id: TargetId): Target => TARGETS.find((t) => t.id === id)!

/** Calls per run: `calls` timed after `warmup`; heavy targets scale them down. */
export const planFor = (id: TargetId, calls: number, warmup: number): Plan => {
  const inFlight = id === "get16" || id === "httpGet16" ? 16 : 1
  if (id === "taskCycle") return { n: Math.ceil(calls / 3), warmup: Math.ceil(warmup / 3), inFlight }
  if (id === "pipeline")
    return { n: Math.max(3, Math.round(calls / 20)), warmup: Math.max(1, Math.round(warmup / 20)), inFlight }
  return { n: calls, warmup, inFlight }
}

export const GET_KEY = "bench:get"
export const VALUE = "v".repeat(100)
/** Calls vary over this many keys (set) or patches (state_patch), each prepared once. */
const VARIANTS = 1000
const setKey = (i: number) => `bench:set:${i % VARIANTS}`
const pipelineSets = Array.from({ length: 1000 }, (_, j) => ["SET", `bench:pipe:${j}`, "v".repeat(16)])
/** ioredis wants method names: ["set", key, value]. */
const ioredisSets = pipelineSets.map(([, key, value]) => ["set", key!, value!])

/** `VARIANTS` prepared calls, made on first use (in the warm-up); call `i` uses variant `i % VARIANTS`. */
const cycle = (make: (j: number) => () => Promise<unknown>): Op => {
  let calls: Array<() => Promise<unknown>> | undefined
  return (i) => {
    calls ??= Array.from({ length: VARIANTS }, (_, j) => make(j))
    return calls[i % VARIANTS]!()
  }
}

/** One `get` stands for the sequential and 16-in-flight targets, over stdio and HTTP. */
const gets = (get: Op) => ({ get, get16: get, httpGet: get, httpGet16: get })

const sets = (client: Client): Op => cycle((j) => client.prepare("set", { key: setKey(j), value: VALUE }))

const TASK_ID = /"taskId":"([^"\\]*)"/
const LEASE_TOKEN = /"leaseToken":"([^"\\]*)"/
const COMPLETED = '"status":"completed"'

/**
 * A string member of a tool answer's structuredContent, read from the answer's line: the text
 * content holds the same JSON escaped (`\"taskId\":\"…`), which the pattern cannot match.
 */
const member = (line: string, pattern: RegExp): string => {
  const found = pattern.exec(line)?.[1]
  if (found === undefined) throw new WrongAnswer(`no ${pattern.source} in the answer: ${line.slice(0, 200)}`)
  return found
}

/** One task create → claim → complete, each answer parsed in full. */
const taskCycle =
  (call: Call, queue: string): Op =>
  async () => {
    const { taskId } = (await call("task_create", { queue, payload: { n: 1 } })) as { taskId: string }
    const { tasks } = (await call("task_claim", { queue, worker: "bench", leaseSeconds: 60 })) as {
      tasks: Array<{ taskId: string; leaseToken: string }>
    }
    const task = tasks[0]
    if (task?.taskId !== taskId) throw new Error("task_claim returned another task than the one just created")
    await call("task_complete", { queue, taskId, leaseToken: task.leaseToken, result: { ok: true } })
  }

/**
 * The same cycle on the raw driver: create and claim serialised once, the ids read from the
 * answers' lines (each answer checked as a prepared call's: an error or a tool error fails it,
 * one in 64 parsed in full), so the driver costs per task call about what it costs per `get`.
 */
const taskCycleRaw = (prepareText: NonNullable<Client["prepareText"]>, queue: string): Op => {
  const create = prepareText("task_create", { queue, payload: { n: 1 } })
  const claim = prepareText("task_claim", { queue, worker: "bench", leaseSeconds: 60 })
  return async () => {
    const taskId = member(await create(), TASK_ID)
    const claimed = await claim()
    if (member(claimed, TASK_ID) !== taskId)
      throw new WrongAnswer("task_claim returned another task than the one just created")
    const leaseToken = member(claimed, LEASE_TOKEN)
    const done = await prepareText("task_complete", { queue, taskId, leaseToken, result: { ok: true } })()
    if (!done.includes(COMPLETED)) throw new WrongAnswer(`task_complete did not complete: ${done.slice(0, 200)}`)
  }
}

let sessions = 0

/** ours (this build or an older one), over any transport; each session on a queue of its own. */
export const oursOps = ({ call, prepare, prepareText }: Client): Partial<Record<TargetId, Op>> => {
  const queue = `bench-${process.pid}-${++sessions}`
  return {
    ...gets(prepare("get", { key: GET_KEY }, VALUE)),
    set: sets({ call, prepare }),
    taskCycle: prepareText === undefined ? taskCycle(call, queue) : taskCycleRaw(prepareText, queue),
    // 50 documents; each patch changes its document (n differs from the document's last n).
    statePatch: cycle((j) =>
      prepare("state_patch", { namespace: "bench", key: `doc-${j % 50}`, patch: { n: j, status: "running" } })
    ),
    pipeline: prepare("pipeline", { commands: pipelineSets })
  }
}

/** The reference server: tools `get` and `set` only. */
export const referenceOps = (client: Client): Partial<Record<TargetId, Op>> => {
  const get = client.prepare("get", { key: GET_KEY }, VALUE)
  return { get, get16: get, set: sets(client) }
}

/** An echo server: the same arguments as ours, sent to its one tool. */
export const echoOps = ({ prepare }: Client): Partial<Record<TargetId, Op>> => {
  return {
    ...gets(prepare("echo", { key: GET_KEY }, GET_KEY)),
    set: cycle((j) => prepare("echo", { key: setKey(j), value: VALUE }))
  }
}

/** Raw ioredis on the same redis-server: the Redis ceiling. */
export const ioredisOps = (redis: Redis): Partial<Record<TargetId, Op>> => ({
  get: () => redis.get(GET_KEY),
  get16: () => redis.get(GET_KEY),
  set: (i) => redis.set(setKey(i), VALUE),
  pipeline: () => redis.pipeline(ioredisSets).exec()
})
