/**
 * Timing: run an operation sequentially or with a fixed number in flight, and
 * summarise as calls per second and latency percentiles; combine repeated runs
 * by their median.
 */

/** One measurement of one operation. */
export interface Sample {
  /** Completed operations per second of wall time. */
  readonly perSec: number
  /** Latency percentiles of one operation, in milliseconds. */
  readonly p50: number
  readonly p99: number
  readonly n: number
  /** CPU time the server process spent per timed operation, in µs (when its pid is known). */
  readonly cpuUs?: number
  /** CPU time this process (the client) spent per timed operation, in µs. */
  readonly clientCpuUs?: number
}

export interface Plan {
  /** Timed operations. */
  readonly n: number
  /** Untimed operations first (JIT, connection pools, caches). */
  readonly warmup: number
  /** Operations in flight at once (1 = sequential). */
  readonly inFlight: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN

/** Keep `inFlight` workers calling `op(i)` until `n` calls have been made; returns each call's latency. */
const drive = async (n: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<Array<number>> => {
  const times: Array<number> = []
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const t = performance.now()
      await op(i)
      times.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, worker))
  return times
}

/**
 * Time `plan.n` calls of `op` (the index is passed, so calls can vary their key) after the warm-up.
 * `cpuMs`, when given, reads the server's CPU time: wall-clock numbers swing with whatever else
 * the machine runs, CPU per operation much less.
 */
export const measure = async (
  plan: Plan,
  op: (i: number) => Promise<unknown>,
  cpuMs?: () => number | undefined
): Promise<Sample> => {
  await drive(plan.warmup, plan.inFlight, (i) => op(plan.n + i))
  const cpu0 = cpuMs?.()
  const client0 = process.cpuUsage()
  const start = performance.now()
  const times = await drive(plan.n, plan.inFlight, op)
  const wall = performance.now() - start
  const client = process.cpuUsage(client0)
  const cpu1 = cpuMs?.()
  times.sort((a, b) => a - b)
  return {
    perSec: (plan.n / wall) * 1000,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    n: plan.n,
    ...(cpu0 === undefined || cpu1 === undefined ? {} : { cpuUs: ((cpu1 - cpu0) * 1000) / plan.n }),
    clientCpuUs: (client.user + client.system) / plan.n
  }
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The median of a field over the runs that have it. */
const medianOf = (runs: ReadonlyArray<Sample>, field: "cpuUs" | "clientCpuUs"): { [K in typeof field]?: number } => {
  const values = runs.flatMap((r) => (r[field] === undefined ? [] : [r[field]]))
  return values.length === 0 ? {} : { [field]: median(values) }
}

/** The median of each field over repeated runs. */
export const medianSample = (runs: ReadonlyArray<Sample>): Sample => ({
  perSec: median(runs.map((r) => r.perSec)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  n: runs[0]?.n ?? 0,
  ...medianOf(runs, "cpuUs"),
  ...medianOf(runs, "clientCpuUs")
})
