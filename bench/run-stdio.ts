/**
 * One stdio server in one era: spawn it (timing spawn → first tools/list),
 * run its targets, read its RSS, close it.
 */
import { cpuMs } from "./processes.ts"
import type { Results } from "./results.ts"
import { measure } from "./stats.ts"
import { connectStdio, type Era, Unavailable } from "./stdio-client.ts"
import type { StdioSystem } from "./systems.ts"
import { type Op, planFor, type TargetId } from "./workloads.ts"

export interface Sizes {
  readonly calls: number
  readonly warmup: number
}

const STDIO_TARGETS: ReadonlyArray<TargetId> = ["get", "get16", "set", "taskCycle", "statePatch", "pipeline"]

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 160)

/** Retry `op` until it succeeds (the server may still be connecting to Redis). */
export const untilReady = async (op: Op, timeoutMs = 15_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      await op(0)
      return
    } catch (e) {
      if (performance.now() > deadline) throw e
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** Run `targets` of `ops`, each timed into `results`; a failing target is reported and the rest still run. */
export const runTargets = async (
  results: Results,
  at: { system: string; role: StdioSystem["role"]; via: string; pid?: number },
  ops: Partial<Record<TargetId, Op>>,
  targets: ReadonlyArray<TargetId>,
  sizes: Sizes
): Promise<void> => {
  for (const id of targets) {
    const op = ops[id]
    if (op === undefined) continue
    try {
      const pid = at.pid
      const cpu = pid === undefined ? undefined : () => cpuMs(pid)
      results.sample(at.system, at.role, at.via, id, await measure(planFor(id, sizes.calls, sizes.warmup), op, cpu))
    } catch (e) {
      results.missing(at.system, at.role, at.via, [id], `failed: ${message(e)}`)
    }
  }
}

/** Spawn, list tools; the time until the list arrives. Undefined (and noted) when the server is unavailable in `era`. */
const spawnAndList = async (results: Results, system: StdioSystem, era: Era) => {
  const t0 = performance.now()
  try {
    const session = await connectStdio(system.spawn, era)
    await session.listTools()
    results.value(system.name, system.role, era, "spawn", performance.now() - t0)
    return session
  } catch (e) {
    const reason = e instanceof Unavailable ? e.message : `failed: ${message(e)}`
    const targets = [
      ...STDIO_TARGETS.filter((t) => system.ops(async () => undefined)[t] !== undefined),
      "spawn",
      "rss"
    ] as const
    results.missing(system.name, system.role, era, targets, reason)
    return undefined
  }
}

/** A full measured session. Returns false when the server cannot be used in this era (skip it from then on). */
export const runStdio = async (results: Results, system: StdioSystem, era: Era, sizes: Sizes): Promise<boolean> => {
  const session = await spawnAndList(results, system, era)
  if (session === undefined) return false
  try {
    const ops = system.ops(session.call)
    const at = { system: system.name, role: system.role, via: era, pid: session.pid }
    const first = ops.get ?? Object.values(ops)[0]
    if (first !== undefined) await untilReady(first)
    await runTargets(results, at, ops, STDIO_TARGETS, sizes)
    results.value(system.name, system.role, era, "rss", session.rssMiB())
  } catch (e) {
    results.missing(system.name, system.role, era, STDIO_TARGETS, `failed: ${message(e)}`)
  } finally {
    await session.close().catch(() => undefined)
  }
  return true
}

/** One more spawn → first tools/list sample. */
export const runSpawnOnly = async (results: Results, system: StdioSystem, era: Era): Promise<void> => {
  const session = await spawnAndList(results, system, era)
  await session?.close().catch(() => undefined)
}
