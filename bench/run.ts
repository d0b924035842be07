/**
 * `npm run bench`: sequential calls per second and latency percentiles, side by side
 * with a baseline measured in the same run (raw ioredis on the same redis-server).
 * Numbers, not assertions: nothing here fails on speed.
 */
import { Redis } from "ioredis"
import { startServer } from "../test/e2e/client.ts"
import { startRedis } from "../test/support/standalone.ts"
import { stopAll } from "../test/support/registry.ts"

const N = Number(process.env.BENCH_N ?? 2000)

interface Row {
  readonly name: string
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
}

const measure = async (name: string, n: number, op: (i: number) => Promise<unknown>): Promise<Row> => {
  for (let i = 0; i < Math.min(200, n); i++) await op(i) // warm-up
  const times: Array<number> = []
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await op(i)
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

const mcpGet = async (label: string, env: Record<string, string>): Promise<Row> => {
  const server = await startServer(env)
  try {
    const r = await server.call("set", { key: "bench:k", value: "v".repeat(100) })
    if (!r.ok) throw new Error(`set failed: ${JSON.stringify(r.error)}`)
    return await measure(label, N, async () => {
      const g = await server.call("get", { key: "bench:k" })
      if (!g.ok) throw new Error(`get failed: ${JSON.stringify(g.error)}`)
    })
  } finally {
    await server.close()
  }
}

const main = async () => {
  const redis = await startRedis()
  const rows: Array<Row> = []
  try {
    const raw = new Redis(redis.url)
    await raw.set("bench:k", "v".repeat(100))
    rows.push(await measure("baseline: ioredis GET (same redis-server)", N, () => raw.get("bench:k")))
    raw.disconnect()
    rows.push(await mcpGet("MCP stdio get, real Redis", { REDIS_URL: redis.url, REDIS_MCP_LOG_LEVEL: "warn" }))
    rows.push(await mcpGet("MCP stdio get, in-memory store", { REDIS_MCP_LOG_LEVEL: "warn" }))
    const { benchTasks } = await import("./tasks.ts").catch(() => ({ benchTasks: undefined }))
    if (benchTasks) rows.push(...(await benchTasks(redis.url)))
  } finally {
    await redis.stop()
    await stopAll()
  }
  const w = Math.max(...rows.map((r) => r.name.length))
  process.stdout.write(`sequential calls, n=${N} (node ${process.version})\n`)
  process.stdout.write(`${"".padEnd(w)}  ${"ops/s".padStart(8)}  ${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}\n`)
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(w)}  ${String(r.opsPerSec).padStart(8)}  ${r.p50.toFixed(3).padStart(8)}  ${r.p99.toFixed(3).padStart(8)}\n`
    )
  }
}

await main()
