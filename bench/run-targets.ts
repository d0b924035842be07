/**
 * Run a server's operations for a list of targets, each timed into the
 * results; shared by the stdio, HTTP and ioredis drivers.
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
