/**
 * Timing helpers for `npm run bench`: sequential operations, ops/s and latency
 * percentiles, printed as one table.
 */
export interface Row {
  readonly name: string
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
}

/** Time `n` sequential runs of `op` after a warm-up of up to 200 runs. */
export const measure = async (name: string, n: number, op: () => Promise<unknown>): Promise<Row> => {
  for (let i = 0; i < Math.min(200, n); i++) await op()
  const times: Array<number> = []
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await op()
    times.push(performance.now() - t)
  }
  const total = performance.now() - start
  times.sort((a, b) => a - b)
  return {
    name,
    opsPerSec: Math.round((n / total) * 1000),
    p50: times[Math.floor(n * 0.5)]!,
    p99: times[Math.floor(n * 0.99)]!
  }
}

/** The rows as an aligned table on stdout. */
export const printTable = (title: string, rows: ReadonlyArray<Row>): void => {
  const w = Math.max(...rows.map((r) => r.name.length))
  process.stdout.write(`${title} (node ${process.version})\n`)
  process.stdout.write(`${"".padEnd(w)}  ${"ops/s".padStart(8)}  ${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}\n`)
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(w)}  ${String(r.opsPerSec).padStart(8)}  ${r.p50.toFixed(3).padStart(8)}  ${r.p99.toFixed(3).padStart(8)}\n`
    )
  }
}
