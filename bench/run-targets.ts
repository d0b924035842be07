/**
 * Run a server's operations for a list of targets, each timed into the
 * results; shared by the stdio, HTTP and ioredis drivers. `interleave` runs
 * several started servers target by target.
 */
import { cpuMs } from "./processes.ts"
import { WrongAnswer } from "./raw-wire.ts"
import type { At, Results } from "./results.ts"
import { measure } from "./stats.ts"
import { type Op, planFor, type TargetId } from "./workloads.ts"

export interface Sizes {
  readonly calls: number
  readonly warmup: number
}

/** Where samples go, and the server's pid (for CPU time) when it is our child. */
export interface Measured extends At {
  readonly pid?: number
}

/** The first line of an error, short enough for the table's note. */
export const firstLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 200)

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

/** Time each target `ops` has; a failing target is noted (a wrong answer also in `results.wrongAnswers`) and the rest still run. */
export const runTargets = async (
  results: Results,
  at: Measured,
  ops: Partial<Record<TargetId, Op>>,
  targets: ReadonlyArray<TargetId>,
  sizes: Sizes
): Promise<void> => {
  const pid = at.pid
  const cpu = pid === undefined ? undefined : () => cpuMs(pid)
  for (const id of targets) {
    const op = ops[id]
    if (op === undefined) continue
    try {
      results.sample(at, id, await measure(planFor(id, sizes.calls, sizes.warmup), op, cpu))
    } catch (e) {
      results.missing(at, [id], `failed: ${firstLine(e)}`)
      if (e instanceof WrongAnswer) results.wrongAnswers.push(`${at.system}, ${at.via}, ${id}: ${firstLine(e)}`)
    }
  }
}

/** A started server, measured one target at a time, then stopped. */
export interface Live {
  readonly name: string
  /** Whether it has an operation for the target. */
  readonly has: (target: TargetId) => boolean
  readonly measure: (target: TargetId) => Promise<void>
  /** Note its RSS (when it ran), then stop it. */
  readonly finish: () => Promise<void>
}

/**
 * Start the servers (a starter gives undefined for one that cannot be used), then each target on
 * every started server before the next target, a different server first for each target and run:
 * the measurements a ratio compares are seconds apart, not a whole battery, so a change in the
 * machine's load lands on both sides alike. Each server still meets the targets in their order
 * (the same warm-up as on its own); between its turns it sits idle. Every started server is
 * stopped at the end, whatever failed.
 */
export const interleave = async (
  starters: ReadonlyArray<() => Promise<Live | undefined>>,
  targets: ReadonlyArray<TargetId>,
  run: number,
  log: (line: string) => void
): Promise<void> => {
  const live: Array<Live> = []
  try {
    for (const start of starters) {
      const started = await start()
      if (started !== undefined) live.push(started)
    }
    for (const [i, target] of targets.entries()) {
      const shift = (run - 1 + i) % Math.max(1, live.length)
      const order = [...live.slice(shift), ...live.slice(0, shift)].filter((l) => l.has(target))
      log(`${target}: ${order.map((l) => l.name).join("; ")}`)
      for (const server of order) await server.measure(target)
    }
  } finally {
    for (const server of live) await server.finish()
  }
}
