/**
 * The HTTP ceiling: a bare `node:http` server that parses a JSON-RPC
 * `tools/call` body and answers with its arguments as the tool result. No MCP
 * SDK, no validation: what remains is Node's HTTP stack and JSON.
 *
 *   node bench/servers/http-echo.ts PORT     listens on 127.0.0.1:PORT (0 = any), POST /mcp
 */
import { createServer } from "node:http"

const server = createServer((req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    let reply: unknown
    try {
      const msg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        id: unknown
        params?: { arguments?: Record<string, unknown> }
      }
      const args = msg.params?.arguments ?? {}
      reply = {
        jsonrpc: "2.0",
        id: msg.id,
        result: { content: [{ type: "text", text: JSON.stringify(args) }], structuredContent: args }
      }
    } catch {
      reply = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply))
  })
})
server.keepAliveTimeout = 30_000
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const address = server.address()
  process.stderr.write(
    `${JSON.stringify({ message: "listening", port: typeof address === "object" ? address?.port : 0 })}\n`
  )
})
