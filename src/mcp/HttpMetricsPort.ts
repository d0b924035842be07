/**
 * `/healthz`, `/readyz` and `/metrics` on a listener of their own, on 127.0.0.1
 * at REDIS_MCP_METRICS_PORT (`--metrics-port`): what a stdio server, which has
 * no listener, offers a scraper or a supervisor. The answers are the HTTP
 * transport's own (HttpEndpoints.ts); anything else is 404, a foreign `Host` or
 * `Origin` 403 (DNS rebinding). The entry point imports this module only when
 * the port is set, so a stdio start without it never loads the HTTP stack.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { validateHostHeader } from "@modelcontextprotocol/server"
import { Effect, Layer } from "effect"
import { RedisConfig } from "../layers/Config.ts"
import { MetricsConfig } from "../layers/MetricsSettings.ts"
import * as ProcessMetrics from "../layers/ProcessMetrics.ts"
import { listen } from "./HttpBind.ts"
import { makeEndpoints } from "./HttpEndpoints.ts"
import { originAllowed } from "./HttpHandler.ts"
import { sendJson, sendRpcError } from "./HttpReply.ts"
import { LOOPBACK_HOSTNAMES } from "./HttpSettings.ts"
import { McpEdge } from "./Server.ts"

const HOST = "127.0.0.1"

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const make = Effect.gen(function* () {
  const edge = yield* McpEdge
  const { port } = yield* MetricsConfig
  const { commandTimeoutMs } = yield* RedisConfig
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
  const endpoints = makeEndpoints({ run: edge.run, timeoutMs: commandTimeoutMs, oauth: undefined })

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const host = validateHostHeader(header(req, "host"), [...LOOPBACK_HOSTNAMES])
    if (!host.ok) return sendRpcError(res, 403, host.message)
    const origin = header(req, "origin")
    if (!originAllowed(origin, LOOPBACK_HOSTNAMES)) return sendRpcError(res, 403, `Invalid Origin: ${origin}`)
    const path = (req.url ?? "/").split("?", 1)[0]!
    if (await endpoints(req, res, path)) return
    sendJson(res, 404, { error: "not_found", error_description: "this port serves /healthz, /readyz and /metrics" })
  }
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      runFork(Effect.logError("metrics port request failed", { error: String(error) }))
      if (!res.headersSent) sendRpcError(res, 500, "Internal server error")
      else res.destroy()
    })
  })

  const address = yield* Effect.acquireRelease(listen(server, HOST, port ?? 0, "REDIS_MCP_METRICS_PORT"), () =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })
  )
  yield* Effect.logInfo("metrics listening", {
    host: address.address,
    port: address.port,
    url: `http://${address.address}:${address.port}/metrics`
  })
})

/** The listener, and the process metrics it serves; needs the edge and the settings. */
export const layer = Layer.merge(Layer.effectDiscard(make), ProcessMetrics.layer)
