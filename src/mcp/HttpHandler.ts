/**
 * One HTTP request, in this order, each step answering before anything after it runs: draining
 * (503), the `Host` and `Origin` checks (403), the endpoints that need no token (/healthz,
 * /readyz, /metrics, RFC 9728 metadata), `/mcp` only (404), the bearer token when auth is on
 * (401, or 503 with the issuer down), then the MCP handler with the principal's `AuthInfo` (its
 * body bounded: 413). `subscriptions/listen` streams go through HttpListen.ts first.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AuthInfo } from "@modelcontextprotocol/server"
import { validateHostHeader } from "@modelcontextprotocol/server"
import type { Services } from "../services/Stack.ts"
import type { AuthFailure } from "./auth/AuthErrors.ts"
import { type AuthExtra, type GateOutcome, principalOf } from "./auth/Bearer.ts"
import type { Drain } from "./Drain.ts"
import { LISTEN } from "./HttpListen.ts"
import { sendJson, sendResponse, sendRpcError } from "./HttpReply.ts"
import type { Surface } from "./Surface.ts"

/** The request as the SDK's Node adapter reads it: `auth` is handed to the factory as `ctx.authInfo`. */
export type McpRequest = IncomingMessage & { auth?: AuthInfo }

export interface HandlerOptions {
  readonly drain: Drain
  readonly allowedHosts: ReadonlyArray<string>
  readonly allowedOrigins: ReadonlyArray<string>
  /** Serves the endpoints that need no token; false when the path is none of them. */
  readonly endpoints: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>
  /** The bearer check; undefined when no auth method is configured. */
  readonly gate: ((authorization: string | undefined) => Promise<GateOutcome>) | undefined
  /** A refused request, with its reason (count it, audit it). */
  readonly refused: (failure: AuthFailure, req: IncomingMessage) => void
  readonly surfaceOf: (principal: AuthExtra | undefined) => Surface<Services>
  readonly listen: (
    req: IncomingMessage,
    res: ServerResponse,
    view: Surface<Services>,
    principal?: string
  ) => Promise<void>
  /** The SDK's handler (toNodeHandler over createMcpHandler). */
  readonly mcp: (req: McpRequest, res: ServerResponse) => Promise<void>
  /** Every answered request's status code. */
  readonly answered: (code: number) => void
  readonly failed: (error: unknown) => void
}

/** Whether an `Origin` header may call: absent (not a browser), or a listed origin or hostname. */
export const originAllowed = (origin: string | undefined, allowed: ReadonlyArray<string>): boolean => {
  if (origin === undefined || origin === "") return true
  if (!URL.canParse(origin)) return false
  const url = new URL(origin)
  return url.hostname !== "" && (allowed.includes(url.origin) || allowed.includes(url.hostname))
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Host values whose verdict is remembered; past this, a new one is judged on every request. */
const MAX_HOSTS = 64

export const makeHandler = (options: HandlerOptions) => {
  const { drain } = options
  const allowedHosts = [...options.allowedHosts]
  // A client sends the same few Host values on every request: each is parsed and judged once.
  const hostChecks = new Map<string | undefined, ReturnType<typeof validateHostHeader>>()
  const checkHost = (value: string | undefined) => {
    let check = hostChecks.get(value)
    if (check === undefined) {
      check = validateHostHeader(value, allowedHosts)
      if (hostChecks.size < MAX_HOSTS) hostChecks.set(value, check)
    }
    return check
  }
  const route = async (req: McpRequest, res: ServerResponse, leave: () => void) => {
    const host = checkHost(header(req, "host"))
    if (!host.ok) return sendRpcError(res, 403, host.message)
    const origin = header(req, "origin")
    if (!originAllowed(origin, options.allowedOrigins)) return sendRpcError(res, 403, `Invalid Origin: ${origin}`)
    const path = (req.url ?? "/").split("?", 1)[0]!
    if (path !== "/mcp" && (await options.endpoints(req, res, path))) return
    if (path !== "/mcp") return sendJson(res, 404, { error: "not_found", error_description: "MCP is served on /mcp" })
    let info: AuthInfo | undefined
    if (options.gate !== undefined) {
      const outcome = await options.gate(header(req, "authorization"))
      if (outcome._tag === "Refused") {
        options.refused(outcome.failure, req)
        return sendResponse(res, outcome.response)
      }
      info = outcome.info
    }
    const principal = principalOf(info)
    if (req.method === "POST" && header(req, "mcp-method")?.trim() === LISTEN) {
      // A listen stream stays open as long as the client wants: it is no call for the drain to wait on.
      leave()
      return options.listen(req, res, options.surfaceOf(principal), principal?.principal)
    }
    if (info !== undefined) req.auth = info
    return options.mcp(req, res)
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    res.once("close", () => options.answered(res.statusCode))
    if (!drain.enter()) {
      sendRpcError(res, 503, "The server is shutting down; retry on another instance or in a moment.", {
        connection: "close",
        "retry-after": "5"
      })
      return
    }
    let left = false
    const leave = () => {
      if (left) return
      left = true
      drain.leave()
    }
    res.once("close", leave)
    route(req, res, leave).catch((error: unknown) => {
      options.failed(error)
      if (!res.headersSent) sendRpcError(res, 500, "Internal server error")
      else res.destroy()
    })
  }
}
