/**
 * MCP over Streamable HTTP on `/mcp`, on Node's http server through the SDK's
 * `createMcpHandler` (2026-07-28, and the 2025 revisions served statelessly) and
 * `toNodeHandler`. Every request gets a fresh, cheap `Server` from the edge's
 * factory, for the principal its bearer token names; the tool table, schemas and
 * runtime were built once (Server.ts). SIGHUP reloads the auth file; SIGTERM (the
 * layer's scope closing) drains: new requests get 503, calls in flight get up to
 * REDIS_MCP_SHUTDOWN_GRACE_MS to finish, then the listener closes. The entry point
 * imports this module only for `--transport http`, with what only it needs
 * (the HTTP settings, the authenticator and its OAuth library).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { toNodeHandler } from "@modelcontextprotocol/node"
import { createMcpHandler, type McpRequestContext } from "@modelcontextprotocol/server"
import { Effect, Layer, type Metric, Option } from "effect"
import { RedisConfig } from "../layers/Config.ts"
import * as Metrics from "../layers/Metrics.ts"
import * as ProcessMetrics from "../layers/ProcessMetrics.ts"
import { exitCleanlyOn } from "../layers/RunMain.ts"
import { Audit } from "./audit/Audit.ts"
import { authFailureEvent } from "./audit/AuditEvents.ts"
import type { AuthFailure } from "./auth/AuthErrors.ts"
import { Authenticator } from "./auth/Authenticator.ts"
import { AuthSettings } from "./auth/AuthSettings.ts"
import { AuthStore } from "./auth/AuthStore.ts"
import { bearerCheck, principalOf } from "./auth/Bearer.ts"
import { PrincipalLimits } from "./auth/PrincipalLimits.ts"
import { metadataUrl } from "./auth/ResourceMetadata.ts"
import { makeDrain } from "./Drain.ts"
import { listen } from "./HttpBind.ts"
import { makeEndpoints } from "./HttpEndpoints.ts"
import { makeHttpFastPath } from "./HttpFastPath.ts"
import { type McpRequest, makeHandler } from "./HttpHandler.ts"
import { makeListen } from "./HttpListen.ts"
import { HttpConfig } from "./HttpSettings.ts"
import { McpEdge, SERVER_INFO } from "./Server.ts"
import { McpConfig } from "./Settings.ts"
import { McpTransport } from "./Transport.ts"

/** Node's request as the SDK's adapter types it (its `method` is never absent on a server's request). */
type NodeRequest = Parameters<ReturnType<typeof toNodeHandler>>[0]

/** The address a client of `req` came from, for logs (never the token). */
const peer = (req: IncomingMessage) => `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`

const make = Effect.gen(function* () {
  const edge = yield* McpEdge
  const { httpHost, httpPort, fastPath: fastPathOn } = yield* McpConfig
  const http = yield* HttpConfig
  const authSettings = yield* AuthSettings
  const store = yield* AuthStore
  const authenticator = yield* Authenticator
  const limits = yield* PrincipalLimits
  const { commandTimeoutMs } = yield* RedisConfig
  const audit = Option.getOrElse(yield* Effect.serviceOption(Audit), () => Audit.off)
  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  const runPromise = Effect.runPromiseWith(context)

  const mcp = createMcpHandler(
    (ctx: McpRequestContext) => {
      const principal = principalOf(ctx.authInfo)
      const view = edge.surface(principal?.grant)
      return edge.server(
        ctx,
        view,
        principal === undefined ? {} : { principal: principal.principal, method: principal.method }
      )
    },
    {
      legacy: "stateless",
      maxRequestBodySize: http.maxBodyBytes,
      onerror: (error) => runFork(Effect.logDebug("mcp http request refused or failed", { error: error.message }))
    }
  )
  const nodeMcp = toNodeHandler(mcp, {
    maxRequestBodySize: http.maxBodyBytes,
    onerror: (error) => runFork(Effect.logError("mcp http handler failed", { error: error.message }))
  })

  // One session for every listen stream of the process: each URI watched once, each update published once.
  const listenSession = edge.session(edge.surface())
  listenSession.attach((uri) => mcp.notify.resourceUpdated(uri))

  const oauth = authSettings.oauth
  const resource = oauth?.resource
  const gate = authenticator.enabled
    ? bearerCheck(authenticator.verify, {
        runPromise,
        ...(resource === undefined ? {} : { resource, resourceMetadataUrl: metadataUrl(resource) }),
        onFailure: (failure) => Metrics.countAuthFailure(failure.reason)
      })
    : undefined
  // Every refused request is counted (above), audited (its reason, never the token) and logged with its detail.
  const refused = (failure: AuthFailure, req: IncomingMessage) =>
    runFork(
      Effect.andThen(
        audit.record(authFailureEvent(failure, { remoteAddress: req.socket.remoteAddress })),
        Effect.logDebug("request refused", {
          reason: failure.reason,
          message: failure.message,
          ...(failure.detail === undefined ? {} : { detail: failure.detail }),
          peer: peer(req)
        })
      )
    )

  const sdk = (req: McpRequest, res: ServerResponse) => nodeMcp(req as NodeRequest, res)
  // Plain stateless tools/call requests are answered without the SDK's pipeline (HttpFastPath.ts).
  const fastPath = fastPathOn
    ? makeHttpFastPath({
        maxBodyBytes: http.maxBodyBytes,
        serverInfo: SERVER_INFO,
        surface: edge.surface,
        call: edge.call,
        sdk
      })
    : undefined

  // One series per status code, made once: counting an answer is a map lookup and an update, no fiber.
  const answers = new Map<number, Metric.Counter<number>>()
  const countAnswer = (code: number) => {
    let series = answers.get(code)
    if (series === undefined) {
      series = Metrics.httpRequestSeries(code)
      answers.set(code, series)
    }
    series.updateUnsafe(1, context)
  }

  const drain = makeDrain()
  const handle = makeHandler({
    drain,
    allowedHosts: http.allowedHosts,
    allowedOrigins: http.allowedOrigins,
    endpoints: makeEndpoints({
      run: edge.run,
      timeoutMs: commandTimeoutMs,
      oauth: oauth === undefined ? undefined : { issuer: oauth.issuer, resource }
    }),
    gate,
    refused,
    surfaceOf: (principal) => edge.surface(principal?.grant),
    listen: makeListen({
      run: edge.run,
      session: listenSession,
      limits,
      maxBodyBytes: http.maxBodyBytes,
      serve: (req, res, body) => nodeMcp(req as NodeRequest, res, body)
    }),
    mcp: fastPath?.serve ?? sdk,
    answered: countAnswer,
    failed: (error) => runFork(Effect.logError("http request failed", { error: String(error) }))
  })

  const server = createServer({ keepAliveTimeout: 65_000 }, handle)
  // SIGTERM is how a supervisor stops the service: after the drain below it has done what it was asked (exit 0).
  exitCleanlyOn("SIGTERM", 0)
  const address = yield* Effect.acquireRelease(listen(server, httpHost, httpPort), () =>
    Effect.gen(function* () {
      drain.start()
      yield* Effect.logInfo("draining: new requests get 503", {
        inFlight: drain.inFlight(),
        graceMs: http.shutdownGraceMs
      })
      const idle = yield* Effect.promise(() => drain.idle(http.shutdownGraceMs))
      if (!idle)
        yield* Effect.logWarning("grace period over; closing calls still in flight", { inFlight: drain.inFlight() })
      listenSession.close()
      yield* Effect.promise(() => mcp.close().catch(() => undefined))
      yield* Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
      yield* Effect.logInfo("mcp http server closed", fastPath === undefined ? {} : { fastPathCalls: fastPath.taken() })
    })
  )

  if (authSettings.authFile !== undefined) {
    const onHangup = () => runFork(Effect.ignore(store.reload))
    yield* Effect.acquireRelease(
      Effect.sync(() => process.on("SIGHUP", onHangup)),
      () => Effect.sync(() => process.off("SIGHUP", onHangup))
    )
  }

  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}/mcp`
  yield* Effect.logInfo("listening", {
    transport: "http",
    host: address.address,
    port: address.port,
    url,
    auth: authSettings.oauth !== undefined ? "oauth" : authSettings.authFile !== undefined ? "tokens" : "none"
  })
  return McpTransport.of({ closed: Effect.never })
})

/** The HTTP transport; needs the edge, its settings, the auth layers and the process metrics it serves. */
export const layer = Layer.merge(Layer.effect(McpTransport, make), ProcessMetrics.layer)

/** The HTTP settings, checked at start (before Redis is connected). */
export const settingsLayer = HttpConfig.layer

/** The transport with its HTTP settings and authenticator, auditing refusals to `audit` (when it gives one). */
export const serviceLayer = <E, R>(audit: Layer.Layer<Audit, E, R>) =>
  layer.pipe(Layer.provide(Layer.mergeAll(settingsLayer, Authenticator.layer, audit)))
