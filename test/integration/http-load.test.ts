/**
 * 50 concurrent HTTP clients for 20 s against the built server on a real redis-server, two tokens
 * with different roles: no error at all (none is expected in this mix), nothing lost (every
 * acknowledged `set` reads back with its value from Redis itself), and the server, its heap
 * bounded, keeps serving with its RSS under a limit while the per-request `Server` instances come
 * and go (thousands of requests at least: a shared instance would leak, typescript-sdk#2607).
 * Each client goes on past the 20 s until it has made a fixed number of rounds, so how much work
 * is checked never depends on the machine's speed. The request rate and RSS are printed for the
 * record (speed is not asserted: see npm run bench).
 */
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir } from "../support/auth.ts"
import { requireRedis } from "../support/env.ts"
import { type HttpServer, startHttpServer } from "../support/http-server.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

const CLIENTS = 50
const DURATION_MS = 20_000
/** Rounds (a set, every 4th a get, every 10th a state_set) each client makes at least, however slow the machine. */
const MIN_ROUNDS = 100
/** The server's heap limit in this run. */
const HEAP_MIB = 256
/** The heap limit plus code, buffers and sockets, with room to spare. */
const RSS_LIMIT_MIB = 400
const TOKENS = ["load-a-token-0123456789abcdef0123456789", "load-b-token-0123456789abcdef0123456789"]

const rssMiB = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))!
  return Number(/(\d+)/.exec(line)![1]) / 1024
}

/** One stateless tools/call; the structuredContent, or throws with what came back instead. */
const caller = (port: number, token: string) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let id = 0
  const call = (name: string, args: Record<string, unknown>) =>
    new Promise<any>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name, arguments: args } })
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/mcp",
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
            authorization: `Bearer ${token}`,
            "content-length": Buffer.byteLength(body)
          }
        },
        (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (c: Buffer) => chunks.push(c))
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8")
            const data = text.includes("data:")
              ? text
                  .split("\n")
                  .filter((l) => l.startsWith("data:"))
                  .at(-1)!
                  .slice(5)
              : text
            const message = res.statusCode === 200 ? JSON.parse(data) : undefined
            if (message?.result !== undefined && message.result.isError !== true)
              resolve(message.result.structuredContent)
            else reject(new Error(`${name}: HTTP ${res.statusCode} ${text.slice(0, 300)}`))
          })
          res.on("error", reject)
        }
      )
      req.on("error", reject)
      req.end(body)
    })
  return { call, close: () => agent.destroy() }
}

describe("50 HTTP clients for 20 s on real Redis", () => {
  let redis: RedisHandle
  let server: HttpServer
  let files: Awaited<ReturnType<typeof authDir>>

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    files = await authDir()
    const authFile = await files.write("auth.json", {
      roles: {
        writer: { toolsets: ["keys", "state"], keys: ["load:*"], namespaces: ["load"] },
        other: { toolsets: ["keys"], keys: ["load:*"] }
      },
      tokens: [
        { name: "a", sha256: sha256Hex(TOKENS[0]!), role: "writer" },
        { name: "b", sha256: sha256Hex(TOKENS[1]!), role: "other" }
      ]
    })
    server = await startHttpServer({
      // A bounded heap, as in a container: a server keeping anything per request would run out of
      // it within the run (and fail calls); without the bound V8 lets the heap grow lazily.
      nodeArgs: [`--max-old-space-size=${HEAP_MIB}`],
      env: { REDIS_URL: redis.url, REDIS_MCP_AUTH_FILE: authFile }
    })
  })
  afterAll(async () => {
    await server?.stop()
    await redis?.stop()
    await files?.dispose()
  })

  it("no errors, nothing lost, memory bounded", { timeout: 120_000 }, async () => {
    const acked = new Map<string, string>()
    const errors: Array<string> = []
    let requests = 0
    const rssBefore = rssMiB(server.pid)
    const started = Date.now()
    const deadline = started + DURATION_MS
    const samples: Array<number> = []
    const sampler = setInterval(() => samples.push(Math.round(rssMiB(server.pid))), 2000)
    const client = async (n: number) => {
      const { call, close } = caller(server.port, TOKENS[n % 2]!)
      try {
        for (let i = 0; i < MIN_ROUNDS || Date.now() < deadline; i++) {
          const key = `load:${n}:${i}`
          const value = `v${n}-${i}-${"x".repeat(i % 64)}`
          try {
            await call("set", { key, value })
            acked.set(key, value)
            requests++
            if (i % 4 === 3) {
              const got = await call("get", { key })
              requests++
              if (got.value !== value) errors.push(`get ${key}: ${JSON.stringify(got)}`)
            }
            if (n % 2 === 0 && i % 10 === 9) {
              await call("state_set", { namespace: "load", key: `c${n}`, value: i })
              requests++
            }
          } catch (e) {
            errors.push(String(e))
          }
        }
      } finally {
        close()
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)))
    clearInterval(sampler)
    const rssAfter = rssMiB(server.pid)
    const seconds = (Date.now() - started) / 1000
    process.stderr.write(`http-load: RSS samples ${samples.join(" ")}\n`)
    process.stderr.write(
      `http-load: ${CLIENTS} clients, ${requests} requests in ${seconds.toFixed(1)} s (${Math.round(requests / seconds)}/s), ` +
        `server RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after\n`
    )
    assert.deepStrictEqual(errors.slice(0, 5), [])
    // Every round's set was acknowledged (no error above), so at least the fixed workload ran.
    assert.isAtLeast(acked.size, CLIENTS * MIN_ROUNDS)

    // Every acknowledged write is in Redis with its value.
    const keys = [...acked.keys()]
    const reader = redis.client()
    try {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000)
        const values = await reader.mget(...batch)
        for (const [j, k] of batch.entries()) assert.strictEqual(values[j], acked.get(k), k)
      }
    } finally {
      reader.disconnect()
    }
    assert.isBelow(rssAfter, RSS_LIMIT_MIB)
  })
})
