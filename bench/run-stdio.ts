/**
 * One stdio server in one era: spawn it (timing spawn → first tools/list),
 * run its targets, read its RSS, close it.
 */
import type { Results } from "./results.ts"
import { firstLine, runTargets, type Sizes, untilReady } from "./run-targets.ts"
import { connectStdio, type Era, Unavailable } from "./stdio-client.ts"
import type { StdioSystem } from "./systems.ts"
import type { TargetId } from "./workloads.ts"

const STDIO_TARGETS: ReadonlyArray<TargetId> = ["get", "get16", "set", "taskCycle", "statePatch", "pipeline"]

/** Spawn, list tools; the time until the list arrives. Undefined (and noted) when the server is unavailable in `era`. */
const spawnAndList = async (results: Results, system: StdioSystem, era: Era) => {
  const t0 = performance.now()
  try {
    const session = await connectStdio(system.spawn, era)
    await session.listTools()
    results.value(system.name, system.role, era, "spawn", performance.now() - t0)
    return session
  } catch (e) {
    const reason = e instanceof Unavailable ? e.message : `failed: ${firstLine(e)}`
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
    results.missing(system.name, system.role, era, STDIO_TARGETS, `failed: ${firstLine(e)}`)
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
