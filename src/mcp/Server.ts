/**
 * The MCP server of one connection (stdio) or one request (HTTP), made by a
 * cheap factory: the tool table, schemas, codecs and the Effect runtime are
 * built once, in the `McpEdge` layer, and every instance only registers
 * handlers over them. Each call runs as a fiber on the layer's services, as a
 * child of the caller's trace span, interrupted when the request is cancelled.
 */
import { readFileSync } from "node:fs"
import {
  type CacheHint,
  type JSONRPCRequest,
  type McpRequestContext,
  ProtocolError,
  type Result as RpcResult,
  Server,
  type ServerContext
} from "@modelcontextprotocol/server"
import { Context, Effect, Layer, Option } from "effect"
import { ServerConfig } from "../layers/Config.ts"
import type { Services } from "../services/Stack.ts"
import { features } from "../tools/index.ts"
import { Audit, type AuditShape } from "./audit/Audit.ts"
import { type Caller, recordRefusal } from "./audit/AuditCall.ts"
import { checkCall } from "./auth/CallGuard.ts"
import { PrincipalLimits } from "./auth/PrincipalLimits.ts"
import type { Role } from "./auth/Role.ts"
import { type CallFor, cancelOnAbort, makeCalls, type SessionCall } from "./Call.ts"
import { type CallMetrics, off as CallMetricsOff, make as makeCallMetrics, metered } from "./CallMetrics.ts"
import { type ChangeHub, makeChangeHub } from "./Changes.ts"
import { envelope, failure, INVALID_REQUEST, type ToolResult, toResult, unknownTool } from "./Envelope.ts"
import { invalidParams } from "./ParamsError.ts"
import { argumentsProblem, type CallCheck } from "./Registry.ts"
import { extensionCapabilities, type Runner, serveExtensions } from "./Resources.ts"
import { makeSession, type Session } from "./Session.ts"
import { McpConfig } from "./Settings.ts"
import { type Catalog, makeCatalog, type Surface, surface } from "./Surface.ts"

/** Inlined by the bundler (scripts/build.ts); undefined in tsc's library build. */
declare const __PACKAGE_VERSION__: string | undefined

/** The package version: inlined in the bundle, else read once from package.json (one level above src/ and dist/). */
export const VERSION: string = (() => {
  if (typeof __PACKAGE_VERSION__ === "string") return __PACKAGE_VERSION__
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string
  } catch {
    return "0.0.0"
  }
})()

export const SERVER_INFO = { name: "effect-redis-mcp", title: "Redis (effect-redis-mcp)", version: VERSION }

export const INSTRUCTIONS =
  "Redis access for agents. Tools return structured JSON; failures come back with isError and a JSON " +
  "envelope {error:{tag,message,retryable}} whose message says what to do. Keys are UTF-8 strings; " +
  'binary values come back base64 with encoding:"base64". Large results are capped and carry a cursor. ' +
  "Use the task_* tools to hand work between agents and state_* tools to share versioned state."

/** Lists that never change while the server runs may be cached for 5 minutes by the client (2026-07-28). */
const STATIC: CacheHint = { ttlMs: 300_000, cacheScope: "private" }
const FRESH: CacheHint = { ttlMs: 0, cacheScope: "private" }
const CACHE_HINTS = {
  "server/discover": STATIC,
  "tools/list": STATIC,
  "prompts/list": STATIC,
  "resources/templates/list": STATIC,
  "resources/list": FRESH,
  "resources/read": FRESH
} as const

/** Methods a 2025-era connection may send before `initialize`. */
const BEFORE_INITIALIZE = new Set(["initialize", "ping", "server/discover"])

type Handler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<RpcResult>

/**
 * The SDK's low-level Server with two gates in front of its own request
 * validation: on a connection that must open with `initialize` (2025 era over
 * stdio) nothing else is served before it; `tools/call` arguments that are
 * not an object get the InvalidArgument envelope instead of a validator dump; and
 * params the SDK's validation refuses are Invalid params, not an Internal error.
 */
class EdgeServer extends Server {
  requireInitialize = false
  toolsCallGuard: ((params: Record<string, unknown>, id: string | number) => ToolResult | undefined) | undefined
  metrics: CallMetrics = CallMetricsOff

  protected override _wrapHandler(method: string, handler: Handler): Handler {
    const wrapped = super._wrapHandler(method, handler)
    return metered(
      () => this.metrics,
      method,
      (request, ctx) => {
        if (this.requireInitialize && !BEFORE_INITIALIZE.has(method) && this.getClientVersion() === undefined) {
          return Promise.reject(
            new ProtocolError(INVALID_REQUEST, `Send initialize first: ${method} is not served before the handshake.`)
          )
        }
        if (method === "tools/call" && this.toolsCallGuard !== undefined) {
          const params = request.params as Record<string, unknown> | undefined
          const early = params === undefined ? undefined : this.toolsCallGuard(params, request.id)
          if (early !== undefined) return Promise.resolve(early as RpcResult)
        }
        if (method === "tools/call") return wrapped(request, ctx)
        return Promise.resolve()
          .then(() => wrapped(request, ctx))
          .catch((error: unknown) => Promise.reject(invalidParams(method, error) ?? error))
      }
    )
  }
}

/** How the transport wants an instance made. */
export interface InstanceOptions {
  /**
   * The connection's session, for `resources/subscribe` (one per stdio connection). Absent over
   * stateless HTTP: a 2026-07-28 client listens on a `subscriptions/listen` stream (the transport
   * serves it), and a 2025 one gets no subscriptions (no stream could carry the updates).
   */
  readonly session?: Session<Services>
  /**
   * The authenticated principal the calls run for (HTTP with auth): `token:<name>` / `oauth:<sub>`.
   * Its calls count against its limits, what they open is its own, and the audit names it.
   * @default "stdio" in the audit, and no limits
   */
  readonly principal?: string
  /** How the principal authenticated (`token`, `oauth`), for the audit. */
  readonly method?: string
  /** The connection must open with `initialize` before anything else is served (2025 era over stdio). */
  readonly requireInitialize?: boolean
}

export interface McpEdgeShape {
  /** Runs an effect on the server's services (built once), interrupted when `signal` aborts. */
  readonly run: Runner<Services>
  /** What a session with this role (none: the server's own settings) sees; one value per role, made once. */
  readonly surface: (role?: Role) => Surface<Services>
  /** A fresh session for a connection (its subscriptions), over the process's change listeners. */
  readonly session: (view: Surface<Services>) => Session<Services>
  /** A fresh server instance for one connection (stdio) or request (HTTP): cheap, handlers over prebuilt tables. */
  readonly server: (ctx: McpRequestContext, view: Surface<Services>, options: InstanceOptions) => Server
  /**
   * The call path of a session (the one its server's `tools/call` handler uses): for a transport
   * that answers some calls itself, so every call runs the same checks, limits, audit and span.
   */
  readonly call: (view: Surface<Services>, who: CallFor) => SessionCall
}

/** The MCP edge: the tool table, the runtime and the change listeners, built once; instances from `server`. */
export class McpEdge extends Context.Service<McpEdge, McpEdgeShape>()("effect-redis-mcp/McpEdge") {
  static readonly layer = Layer.effect(
    McpEdge,
    Effect.gen(function* () {
      const settings = yield* McpConfig
      const { limits } = yield* ServerConfig
      // Optional, so an embedding or a test that builds the edge without one gets no audit.
      const audit: AuditShape = Option.getOrElse(yield* Effect.serviceOption(Audit), () => Audit.off)
      const principalLimits = yield* PrincipalLimits
      const catalog: Catalog<Services> = makeCatalog(features)
      const hub: ChangeHub<Services> = yield* makeChangeHub<Services>()
      const context = yield* Effect.context<Services>()
      const runPromise = Effect.runPromiseWith(context)
      const metrics = yield* makeCallMetrics
      const run: Runner<Services> = (effect, signal) => runPromise(effect, signal ? { signal } : undefined)
      const ownSurface = surface(catalog, settings)
      // Roles are replaced whole on a reload, so a role's surface is made once and dropped with it.
      const surfaces = new WeakMap<Role, Surface<Services>>()
      const surfaceOf = (role: Role | undefined) => {
        if (role === undefined) return ownSurface
        let view = surfaces.get(role)
        if (view === undefined) {
          view = surface(catalog, settings, role)
          surfaces.set(role, view)
        }
        return view
      }
      const checks = new WeakMap<Role, CallCheck<Services>>()
      const checkOf = (role: Role | undefined) => {
        if (role === undefined) return undefined
        let check = checks.get(role)
        if (check === undefined) {
          check = (tool, input) => checkCall(role, tool.touches(input))
          checks.set(role, check)
        }
        return check
      }
      const calls = makeCalls({
        context,
        audit,
        principalLimits,
        maxOutputBytes: limits.maxOutputBytes,
        checkOf: (view) => checkOf(view.role),
        metrics
      })

      /**
       * A tool that exists but is not this session's: audited as refused by its role, or by
       * read-only mode (a write on a read-only server). A toolset that is off is not a refusal.
       */
      const refused = (name: string, caller: Caller, view: Surface<Services>, requestId: string | number) => {
        const entry = catalog.tools.find((e) => e.tool.name === name)
        if (entry === undefined || !audit.enabled) return
        const reason =
          view.role !== undefined
            ? "role"
            : view.readOnly && !entry.listedReadOnly.annotations.readOnlyHint
              ? "read_only"
              : undefined
        if (reason === undefined) return
        void runPromise(recordRefusal(audit, { tool: entry.tool, caller, requestId, reason, outcome: "UnknownTool" }))
      }

      const server = (ctx: McpRequestContext, view: Surface<Services>, options: InstanceOptions): Server => {
        // A 2025 client over stateless HTTP has no stream to carry resource updates: subscribe is not offered.
        const subscriptions = options.session !== undefined || ctx.era === "modern"
        const instance = new EdgeServer(SERVER_INFO, {
          // logging: the SDK answers a 2025 logging/setLevel with {}; the server sends no log notification.
          capabilities: { tools: { listChanged: false }, logging: {}, ...extensionCapabilities(view, subscriptions) },
          instructions: INSTRUCTIONS,
          cacheHints: CACHE_HINTS
        })
        instance.requireInitialize = options.requireInitialize === true && ctx.era === "legacy"
        instance.metrics = metrics
        const caller: Caller = {
          principal: options.principal ?? "stdio",
          role: view.role?.name,
          method: options.method
        }
        instance.toolsCallGuard = (params, id) => {
          const name = params.name
          if (typeof name !== "string") return undefined
          if (!view.tools.has(name)) {
            refused(name, caller, view, id)
            throw unknownTool(name)
          }
          const args = params.arguments
          const problem = args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))
          if (!problem) return undefined
          metrics.toolCall(name, "InvalidArgument", metrics.start())
          return failure(envelope(argumentsProblem(name, args)!))
        }
        instance.setRequestHandler("tools/list", () => ({ tools: view.listed as Array<any> }))
        const call = calls.forSession(view, options)
        instance.setRequestHandler("tools/call", (request, c) => {
          const entry = view.tools.get(request.params.name)
          if (entry === undefined) throw unknownTool(request.params.name)
          const running = call(entry, request.params.arguments, { id: c.mcpReq.id, meta: c.mcpReq._meta })
          cancelOnAbort(c.mcpReq.signal, running)
          return running.outcome.then((outcome) =>
            instance.projectCallToolResult(toResult(outcome) as any, entry.listed.outputSchema)
          )
        })
        serveExtensions(instance, view, options.session, run)
        options.session?.attach((uri) => {
          instance.sendResourceUpdated({ uri }).catch(() => undefined)
        })
        return instance
      }

      return McpEdge.of({
        run,
        surface: surfaceOf,
        session: (view) => makeSession(hub, view.resources, view.role),
        server,
        call: calls.forSession
      })
    })
  )
}
