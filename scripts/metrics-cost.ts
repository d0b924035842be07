/**
 * What metrics and the audit log cost: sequential `get` calls per second over
 * stdio (raw JSON-RPC lines, one call answered before the next is sent) on one
 * redis-server, for the built server with metrics on or off (REDIS_MCP_METRICS)
 * and the audit on or off (REDIS_MCP_AUDIT to a file). The variants run in
 * interleaved rounds, a different one first each round, each process kept for
 * the whole run; the medians and their ratio to the defaults are printed, with
 * the server's CPU time per call (from /proc: steadier than calls/s on a busy machine).
 * Numbers only: nothing here fails on speed.
 *
 *   npm run build && npx node scripts/metrics-cost.ts [--rounds 7] [--calls 3000]
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { startRedis } from "../test/support/standalone.ts"

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url))
const { values } = parseArgs({
  options: { rounds: { type: "string", default: "7" }, calls: { type: "string", default: "3000" } }
})
const ROUNDS = Number(values.rounds)
const CALLS = Number(values.calls)

interface Driver {
  readonly name: string
  /** `n` sequential get calls: calls per second, and the server's CPU microseconds per call. */
  readonly run: (n: number) => Promise<{ readonly perSecond: number; readonly cpuMicros: number }>
  readonly child: ChildProcessWithoutNullStreams
}

/** User + system CPU of `pid` so far, in clock ticks (100 a second). */
const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return Number(fields[11]) + Number(fields[12])
}

const start = async (name: string, env: Record<string, string>): Promise<Driver> => {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", REDIS_MCP_LOG_LEVEL: "warn", ...env },
    stdio: "pipe"
  })
  child.stderr.resume()
  const waiting = new Map<number, () => void>()
  createInterface({ input: child.stdout }).on("line", (line) => {
    const id = JSON.parse(line).id as number
    waiting.get(id)?.()
    waiting.delete(id)
  })
  let id = 0
  const send = (method: string, params: object) =>
    new Promise<void>((resolve) => {
      const mine = ++id
      waiting.set(mine, resolve)
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: mine, method, params })}\n`)
    })
  await send("initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "cost", version: "1" }
  })
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`)
  await send("tools/call", { name: "set", arguments: { key: "cost:k", value: "v".repeat(100) } })
  const get = { name: "get", arguments: { key: "cost:k" } }
  const run = async (n: number) => {
    const c0 = cpuTicks(child.pid!)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await send("tools/call", get)
    const perSecond = n / ((performance.now() - t0) / 1000)
    return { perSecond, cpuMicros: ((cpuTicks(child.pid!) - c0) * 10_000) / n }
  }
  await run(500) // warm-up: JIT, connection
  return { name, run, child }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const redis = await startRedis()
const dir = mkdtempSync(join(tmpdir(), "metrics-cost-"))
const base = { REDIS_URL: redis.url }
const drivers = [
  await start("defaults (metrics on, audit off)", base),
  await start("metrics off", { ...base, REDIS_MCP_METRICS: "off" }),
  await start("audit on (file)", { ...base, REDIS_MCP_AUDIT: join(dir, "audit.log") }),
  await start("metrics off, audit on", { ...base, REDIS_MCP_METRICS: "off", REDIS_MCP_AUDIT: join(dir, "audit2.log") })
]
const results = new Map<string, Array<{ perSecond: number; cpuMicros: number }>>(drivers.map((d) => [d.name, []]))
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...drivers.slice(round % drivers.length), ...drivers.slice(0, round % drivers.length)]
    for (const d of order) results.get(d.name)!.push(await d.run(CALLS))
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`)
  }
} finally {
  for (const d of drivers) d.child.kill()
  await redis.dispose()
  rmSync(dir, { recursive: true, force: true })
}
const first = results.get(drivers[0]!.name)!
const baseline = median(first.map((r) => r.perSecond))
const baseCpu = median(first.map((r) => r.cpuMicros))
process.stdout.write(
  `sequential get over stdio, ${ROUNDS} interleaved rounds of ${CALLS} calls: median calls/s, server CPU µs per call\n`
)
for (const [name, rs] of results) {
  const xs = rs.map((r) => r.perSecond)
  const m = median(xs)
  const cpu = median(rs.map((r) => r.cpuMicros))
  const range = `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`
  process.stdout.write(
    `${name.padEnd(34)} ${String(Math.round(m)).padStart(6)}/s ${(m / baseline).toFixed(3)}× (range ${range})` +
      `  ${cpu.toFixed(0).padStart(4)} µs CPU ${(cpu / baseCpu).toFixed(3)}×\n`
  )
}
