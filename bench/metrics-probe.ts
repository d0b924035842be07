/**
 * Does ours honour `REDIS_MCP_METRICS=off`? A server that does not know the
 * setting ignores it (an unknown variable) and the "metrics off" numbers would
 * be the defaults' under another name. So the bench looks: metrics are served
 * at `/metrics` on the HTTP listener (a stdio server has none), so the same
 * build is started over HTTP, once with metrics on and once off, and makes a
 * few `get` calls; on must count them at `/metrics`, off must not.
 */
import { request } from "node:http"
import { freePort } from "../test/support/ports.ts"
import { httpTarget } from "./http-client.ts"
import { spawnNode, waitUntil } from "./processes.ts"
import { answers } from "./run-http.ts"
import type { Spawn } from "./stdio-client.ts"
import { GET_KEY } from "./workloads.ts"

export const METRICS_OFF = { REDIS_MCP_METRICS: "off" } as const
const CALLS = 20

/** The body of GET /metrics, or undefined when nothing answers 200 there. */
const scrape = (port: number): Promise<string | undefined> =>
  new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/metrics", timeout: 5000 }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString("utf8") : undefined))
      res.on("error", () => resolve(undefined))
    })
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve(undefined))
    req.end()
  })

/**
 * Series that move with every `get` call, in order of preference: tool calls by tool, MCP
 * operations, Redis commands (whichever the build records; summed over their labels).
 */
const PER_CALL = [
  { name: "redis_mcp_tool_calls_total", match: 'tool="get"' },
  { name: "mcp_server_operation_duration_seconds_count", match: 'gen_ai_tool_name="get"' },
  { name: "redis_mcp_redis_command_duration_seconds_count", match: "" }
] as const

/** Each PER_CALL series' total in a /metrics text (absent series are left out). */
export const perCallCounts = (text: string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const line of text.split("\n"))
    for (const { name, match } of PER_CALL) {
      if (!line.startsWith(`${name}{`) || !line.includes(match)) continue
      const value = Number(line.slice(line.lastIndexOf(" ") + 1))
      if (Number.isFinite(value)) counts.set(name, (counts.get(name) ?? 0) + value)
    }
  return counts
}

/**
 * Start `spawn`'s server over HTTP with `env` added, make CALLS gets, scrape: the per-call
 * series, "no metrics" when nothing answers at /metrics, "refused" when it will not start so.
 */
const countAfterGets = async (
  spawn: Spawn,
  env: Record<string, string>
): Promise<Map<string, number> | "no metrics" | "refused"> => {
  const port = await freePort()
  const child = spawnNode([...spawn.args, "--transport", "http", "--port", String(port)], { ...spawn.env, ...env })
  const target = httpTarget(port, "/mcp", 1)
  try {
    try {
      await waitUntil(child, () => answers(port), 20_000)
    } catch {
      return "refused"
    }
    for (let i = 0; i < CALLS; i++) await target.call("get", { key: GET_KEY })
    const text = await scrape(port)
    return text === undefined ? "no metrics" : perCallCounts(text)
  } finally {
    target.close()
    await child.stop()
  }
}

export type Verdict =
  | { readonly honoured: true; readonly note?: string }
  | { readonly honoured: false; readonly why: string }

/**
 * Whether `REDIS_MCP_METRICS=off` turns metric recording off in the build `spawn` starts
 * (which must start with the setting over stdio: the caller has seen it run).
 */
export const metricsOffVerdict = async (spawn: Spawn): Promise<Verdict> => {
  const on = await countAfterGets(spawn, {})
  const counting = typeof on === "string" ? [] : PER_CALL.filter(({ name }) => (on.get(name) ?? 0) >= CALLS)
  if (counting.length === 0)
    return {
      honoured: false,
      why: "cannot tell if REDIS_MCP_METRICS=off is honoured: over HTTP, /metrics has no series counting calls"
    }
  const off = await countAfterGets(spawn, METRICS_OFF)
  if (off === "refused") return { honoured: false, why: "REDIS_MCP_METRICS=off is refused over HTTP" }
  const still = counting.filter(({ name }) => typeof off !== "string" && (off.get(name) ?? 0) >= CALLS)
  const names = still.map(({ name }) => name).join(", ")
  if (still.length === counting.length)
    return { honoured: false, why: `REDIS_MCP_METRICS=off is ignored: /metrics still counts calls in ${names}` }
  return still.length === 0 ? { honoured: true } : { honoured: true, note: `with metrics off, ${names} still counts` }
}
