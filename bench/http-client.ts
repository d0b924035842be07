/**
 * The raw HTTP load generator: JSON-RPC `tools/call` requests POSTed over a
 * keep-alive `node:http` Agent, shaped as a stateless 2026-07-28 request
 * (Mcp-Method / Mcp-Name headers, protocol version and client capabilities in
 * `_meta`). The same generator drives every HTTP server in the run, so their
 * numbers compare; answers in JSON or as one SSE event are both read.
 */
import { Agent, request } from "node:http"

export interface HttpTarget {
  /** Call a tool; throws on an HTTP error, a JSON-RPC error or an isError result. */
  readonly call: (name: string, args: Record<string, unknown>) => Promise<unknown>
  readonly close: () => void
}

const PROTOCOL = "2026-07-28"

const post = (agent: Agent, port: number, path: string, headers: Record<string, string>, body: string) =>
  new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(body) }
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8")
          })
        )
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(body)
  })

/** The JSON-RPC message of a response body: plain JSON, or the last `data:` line of an event stream. */
const message = (type: string, text: string): { result?: unknown; error?: { message: string } } => {
  if (!type.includes("text/event-stream")) return JSON.parse(text)
  const data = text
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .at(-1)
  if (data === undefined) throw new Error("an event stream without data")
  return JSON.parse(data.slice(5))
}

/** A target on 127.0.0.1:`port` at `path`, with up to `sockets` connections kept alive. */
export const httpTarget = (port: number, path: string, sockets: number): HttpTarget => {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets })
  let id = 0
  return {
    call: async (name, args) => {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: ++id,
        method: "tools/call",
        params: {
          name,
          arguments: args,
          _meta: {
            "io.modelcontextprotocol/protocolVersion": PROTOCOL,
            "io.modelcontextprotocol/clientCapabilities": {}
          }
        }
      })
      const headers = {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": PROTOCOL,
        "mcp-method": "tools/call",
        "mcp-name": name
      }
      const res = await post(agent, port, path, headers, body)
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`)
      const msg = message(res.type, res.text)
      if (msg.error !== undefined) throw new Error(`JSON-RPC error: ${msg.error.message}`)
      const result = msg.result as {
        isError?: boolean
        content?: Array<{ text?: string }>
        structuredContent?: unknown
      }
      if (result.isError === true) throw new Error(`tool error: ${result.content?.[0]?.text ?? ""}`)
      return result.structuredContent
    },
    close: () => agent.destroy()
  }
}
