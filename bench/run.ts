/**
 * `npm run bench`: sequential calls per second and latency percentiles, side by
 * side with a baseline measured in the same run on the same redis-server (raw
 * ioredis). Numbers only: nothing here fails on speed.
 */
import { Redis } from "ioredis"
import { type ServerUnderTest, startServer } from "../test/e2e/client.ts"
import { stopAll } from "../test/support/registry.ts"
import { startRedis } from "../test/support/standalone.ts"
import { measure, printTable, type Row } from "./measure.ts"
import { benchTasks } from "./tasks.ts"

const N = Number(process.env.BENCH_N ?? 2000)

const ok = async (server: ServerUnderTest, name: string, args: Record<string, unknown>) => {
  const r = await server.call(name, args)
  if (!r.ok) throw new Error(`${name} failed: ${JSON.stringify(r.error)}`)
  return r.value
}

/** Over MCP stdio: sequential `get`, and sequential task create → claim → complete cycles. */
const overMcp = async (label: string, env: Record<string, string>): Promise<Array<Row>> => {
  const server = await startServer({ REDIS_MCP_LOG_LEVEL: "warn", ...env })
  try {
    await ok(server, "set", { key: "bench:k", value: "v".repeat(100) })
    const get = await measure(`MCP stdio get, ${label}`, N, () => ok(server, "get", { key: "bench:k" }))
    const queue = `bench-mcp-${Date.now()}`
    const cycle = await measure(`MCP stdio task create→claim→complete, ${label}`, Math.ceil(N / 4), async () => {
      const { taskId } = await ok(server, "task_create", { queue, payload: { n: 1 } })
      const { tasks } = await ok(server, "task_claim", { queue, worker: "bench", leaseSeconds: 60 })
      if (tasks[0]?.taskId !== taskId) throw new Error("claimed the wrong task")
      await ok(server, "task_complete", { queue, taskId, leaseToken: tasks[0].leaseToken, result: { ok: true } })
    })
    return [get, cycle]
  } finally {
    await server.close()
  }
}

const redis = await startRedis()
const rows: Array<Row> = []
try {
  const raw = new Redis(redis.url)
  await raw.set("bench:k", "v".repeat(100))
  rows.push(await measure("baseline: ioredis GET, same redis-server", N, () => raw.get("bench:k")))
  raw.disconnect()
  rows.push(...(await overMcp("real Redis", { REDIS_URL: redis.url })))
  rows.push(...(await overMcp("in-memory store", {})))
  rows.push(...(await benchTasks(redis.url)))
} finally {
  await redis.stop()
  await stopAll()
}
printTable(`sequential operations, n=${N} (task cycles over MCP: n=${Math.ceil(N / 4)})`, rows)
