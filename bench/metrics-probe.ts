/**
 * Does ours honour `REDIS_MCP_METRICS=off`? A server that does not know the
 * setting ignores it (an unknown variable) and the "metrics off" numbers would
 * be the defaults' under another name. So the bench looks: the same server
 * with `REDIS_MCP_METRICS_PORT` set, once with metrics on and once off, makes a
 * few `get` calls; on must count them at `/metrics`, off must not.
 */
import { request } from "node:http"
import { freePort } from "../test/support/ports.ts"
import { connectRaw } from "./raw-stdio.ts"
import { type Era, type Session, type Spawn, Unavailable } from "./stdio-client.ts"
import { GET_KEY, VALUE } from "./workloads.ts"

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

/** `get` calls counted in `redis_mcp_tool_calls_total` (summed over outcomes). */
export const countedGets = (text: string): number => {
  let n = 0
  for (const line of text.split("\n")) {
    if (!line.startsWith("redis_mcp_tool_calls_total{") || !line.includes('tool="get"')) continue
    const value = Number(line.slice(line.lastIndexOf(" ") + 1))
    if (Number.isFinite(value)) n += value
  }
  return n
}

/**
 * Spawn with a metrics port, make CALLS gets, scrape: the gets counted, "no metrics" when
 * nothing answers at /metrics, "refused" when the server will not start so.
 */
const countAfterGets = async (
  spawn: Spawn,
  era: Era,
  env: Record<string, string>
): Promise<number | "no metrics" | "refused"> => {
  const port = await freePort()
  const withPort = { ...spawn, env: { ...spawn.env, ...env, REDIS_MCP_METRICS_PORT: String(port) } }
  let session: Session
  try {
    session = await connectRaw(withPort, era)
  } catch (e) {
    if (e instanceof Unavailable) return "refused"
    throw e
  }
  try {
    await session.listTools()
    const get = session.prepare("get", { key: GET_KEY }, VALUE)
    for (let i = 0; i < CALLS; i++) await get()
    const text = await scrape(port)
    return text === undefined ? "no metrics" : countedGets(text)
  } finally {
    await session.close()
  }
}

export type Verdict =
  | { readonly honoured: true; readonly note?: string }
  | { readonly honoured: false; readonly why: string }

/**
 * Whether `REDIS_MCP_METRICS=off` turns metric recording off in the server `spawn` starts
 * (which must start with the setting: the caller has seen it run).
 */
export const metricsOffVerdict = async (spawn: Spawn, era: Era): Promise<Verdict> => {
  const on = await countAfterGets(spawn, era, {})
  if (typeof on !== "number" || on < CALLS)
    return {
      honoured: false,
      why: "cannot tell if REDIS_MCP_METRICS=off is honoured: no /metrics counting calls on REDIS_MCP_METRICS_PORT"
    }
  const off = await countAfterGets(spawn, era, METRICS_OFF)
  if (off === "refused") return { honoured: true, note: "it refuses a metrics port with metrics off" }
  if (typeof off === "number" && off >= CALLS)
    return { honoured: false, why: "REDIS_MCP_METRICS=off is ignored: calls are still counted" }
  return { honoured: true }
}
