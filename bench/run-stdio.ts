/**
 * One stdio server in one era, driven by one client: spawn it (timing spawn →
 * first tools/list), then (`interleave`) its targets, then read its RSS and
 * close it. The raw driver gives the ratio rows; the SDK clients the "as an
 * SDK client sees it" rows.
 */
import { connectRaw } from "./raw-stdio.ts"
import { WrongAnswer } from "./raw-wire.ts"
import type { At, Results, Section } from "./results.ts"
import { firstLine, type Live, runTargets, type Sizes, untilReady } from "./run-targets.ts"
import { connectStdio, type Era, type Session, type Spawn, Unavailable } from "./stdio-client.ts"
import type { StdioSystem } from "./systems.ts"
import type { TargetId } from "./workloads.ts"

export const STDIO_TARGETS: ReadonlyArray<TargetId> = ["get", "get16", "set", "taskCycle", "statePatch", "pipeline"]

const CONNECT: Record<Section, (spawn: Spawn, era: Era) => Promise<Session>> = {
  raw: connectRaw,
  sdk: connectStdio
}

const at = (system: StdioSystem, era: Era, section: Section): At => ({
  system: system.name,
  role: system.role,
  via: era,
  section
})

/** Spawn, list tools; the time until the list arrives. Undefined (and noted) when the server is unavailable in `era`. */
const spawnAndList = async (results: Results, system: StdioSystem, era: Era, section: Section) => {
  const t0 = performance.now()
  try {
    const session = await CONNECT[section](system.spawn, era)
    try {
      await session.listTools()
    } catch (e) {
      await session.close().catch(() => undefined)
      throw e
    }
    results.value(at(system, era, section), "spawn", performance.now() - t0)
    return session
  } catch (e) {
    const reason = e instanceof Unavailable ? e.message : `failed: ${firstLine(e)}`
    const client = { call: async () => undefined, prepare: () => async () => undefined }
    const targets = [...STDIO_TARGETS.filter((t) => system.ops(client)[t] !== undefined), "spawn", "rss"] as const
    results.missing(at(system, era, section), targets, reason)
    return undefined
  }
}

/**
 * A session started and seeded, to be measured target by target (`interleave`). Undefined when the
 * server cannot be used in this era (skip it from then on). A failed seed notes every target missing.
 */
export const startStdio = async (
  results: Results,
  system: StdioSystem,
  era: Era,
  section: Section,
  sizes: Sizes
): Promise<Live | undefined> => {
  results.declare(at(system, era, section))
  const session = await spawnAndList(results, system, era, section)
  if (session === undefined) return undefined
  const where = at(system, era, section)
  const ops = system.ops(session)
  let usable = true
  try {
    const first = ops.get ?? Object.values(ops)[0]
    const seed = system.seed
    if (seed !== undefined) await untilReady(() => seed(session))
    else if (first !== undefined) await untilReady(first)
  } catch (e) {
    usable = false
    results.missing(where, STDIO_TARGETS, `failed: ${firstLine(e)}`)
    if (e instanceof WrongAnswer) results.wrongAnswers.push(`${system.name}, ${era}: ${firstLine(e)}`)
  }
  return {
    name: `${system.name} ${era}`,
    has: (target) => ops[target] !== undefined,
    measure: async (target) => {
      if (usable) await runTargets(results, { ...where, pid: session.pid }, ops, [target], sizes)
    },
    finish: async () => {
      if (usable) results.value(where, "rss", session.rssMiB())
      await session.close().catch(() => undefined)
    }
  }
}

/** One more spawn → first tools/list sample. */
export const runSpawnOnly = async (results: Results, system: StdioSystem, era: Era, section: Section) => {
  const session = await spawnAndList(results, system, era, section)
  await session?.close().catch(() => undefined)
}
