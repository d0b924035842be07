/**
 * The protocol ceiling: an MCP server whose one tool, `echo`, returns its input
 * as structured content. No Redis, no validation: what remains is the SDK and
 * the transport.
 *
 *   node bench/servers/sdk-echo.ts v2 stdio        both eras, v2 low-level Server
 *   node bench/servers/sdk-echo.ts v1 stdio        2025 era, v1 low-level Server (what the reference runs on)
 *   node bench/servers/sdk-echo.ts v2 http PORT    Streamable HTTP on 127.0.0.1:PORT/mcp, both eras (stateless)
 */
import { createServer } from "node:http"

const [sdk = "v2", transport = "stdio", port = "0"] = process.argv.slice(2)
// Exit normally on SIGTERM so `--cpu-prof` and exit hooks run.
process.on("SIGTERM", () => process.exit(0))

const echoTool = {
  name: "echo",
  description: "Returns its input.",
  inputSchema: { type: "object" as const, additionalProperties: true },
  outputSchema: { type: "object" as const, additionalProperties: true }
}
const echo = (args: Record<string, unknown> | undefined) => {
  const out = args ?? {}
  return { content: [{ type: "text" as const, text: JSON.stringify(out) }], structuredContent: out }
}

const v2Factory = async () => {
  const { Server } = await import("@modelcontextprotocol/server")
  return () => {
    const server = new Server({ name: "sdk-echo", version: "2" }, { capabilities: { tools: {} } })
    server.setRequestHandler("tools/list", async () => ({ tools: [echoTool] }))
    server.setRequestHandler("tools/call", async (req) => echo(req.params.arguments))
    return server
  }
}

if (sdk === "v1") {
  const { Server } = await import("@modelcontextprotocol/sdk/server/index.js")
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js")
  const { CallToolRequestSchema, ListToolsRequestSchema } = await import("@modelcontextprotocol/sdk/types.js")
  const server = new Server({ name: "sdk-echo", version: "1" }, { capabilities: { tools: {} } })
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [echoTool] }))
  server.setRequestHandler(CallToolRequestSchema, async (req) => echo(req.params.arguments))
  await server.connect(new StdioServerTransport())
} else if (transport === "stdio") {
  const { serveStdio } = await import("@modelcontextprotocol/server/stdio")
  serveStdio(await v2Factory())
} else {
  const { createMcpHandler } = await import("@modelcontextprotocol/server")
  const { toNodeHandler } = await import("@modelcontextprotocol/node")
  const mcp = createMcpHandler(await v2Factory(), { legacy: "stateless" })
  const handle = toNodeHandler(mcp)
  const http = createServer((req, res) => void handle(req as Parameters<typeof handle>[0], res))
  http.listen(Number(port), "127.0.0.1", () => {
    const address = http.address()
    process.stderr.write(
      `${JSON.stringify({ message: "listening", port: typeof address === "object" ? address?.port : port })}\n`
    )
  })
}
