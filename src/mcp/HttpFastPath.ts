/**
 * The HTTP fast path for `tools/call`. A POST to `/mcp` that is one stateless
 * `tools/call` the SDK's handler (`createMcpHandler`) would accept and hand
 * unchanged to the edge's handler is answered here instead, straight on Node's
 * response: through the same call path (Call.ts: the principal's role, read-only
 * mode, limits, audit, span), encoded once, one write with a Content-Length.
 * It runs where the SDK's handler would (HttpHandler.ts), so the drain (503),
 * Host/Origin (403) and the bearer token (401) have all been checked before it.
 * Everything else goes to the SDK unchanged, every error included: a request
 * declined after its body was read is replayed to it byte for byte.
 *
 * A request is taken only when all of this holds:
 * - Content-Type is JSON, the body is within the limit, valid UTF-8 and JSON,
 *   and of the shape FastCall.ts describes, naming a tool of the principal's surface;
 * - 2026-07-28: `MCP-Protocol-Version: 2026-07-28` (as the envelope's version),
 *   `Mcp-Method: tools/call`, `Mcp-Name` equal to the tool's name (not base64),
 *   `Accept` naming application/json, and an envelope the SDK's own classifier
 *   (`classifyInboundRequest`) accepted: it is asked once per envelope, which is
 *   then remembered (a bounded set). The answer is JSON, as the SDK's;
 * - 2025 revisions: no envelope, no `Mcp-Method`/`Mcp-Name`, a protocol-version
 *   header absent or a 2025 revision, `Accept` naming application/json and
 *   text/event-stream. The answer is the one-event stream the SDK writes.
 *
 * The client closing the connection before the answer cancels the call (its fiber
 * is interrupted), as the SDK's abort signal would. REDIS_MCP_FASTPATH=0 leaves
 * every request to the SDK.
 */
import type { ServerResponse } from "node:http"
import { Readable } from "node:stream"
import { classifyInboundRequest, isJsonContentType } from "@modelcontextprotocol/server"
import type { Services } from "../services/Stack.ts"
import type { AuthExtra } from "./auth/Bearer.ts"
import { principalOf } from "./auth/Bearer.ts"
import type { CallFor, SessionCall } from "./Call.ts"
import {
  encodeAnswer,
  isPlainObject,
  modernResultSuffix,
  type PlainCall,
  PROTOCOL_VERSION_KEY,
  plainCall
} from "./FastCall.ts"
import type { McpRequest } from "./HttpHandler.ts"
import type { Surface } from "./Surface.ts"

const MODERN = "2026-07-28"
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(["2025-11-25", "2025-06-18", "2025-03-26"])
/** Envelopes remembered as accepted; past this, new ones are classified on every request. */
const MAX_ENVELOPES = 256
/** Principals whose call path is kept per surface; past this, the cache starts over. */
const MAX_PRINCIPALS = 1024
/** What the SDK's 2025 transport answers a request with (one event, then the end). */
const STREAM_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no"
} as const

type Era = "modern" | "legacy"

export interface HttpFastPathOptions {
  readonly maxBodyBytes: number
  /** The server's identity, as the SDK stamps it on 2026-07-28 results. */
  readonly serverInfo: unknown
  /** What a session with this role sees (McpEdge.surface). */
  readonly surface: (role?: AuthExtra["grant"]) => Surface<Services>
  /** A session's call path (McpEdge.call). */
  readonly call: (view: Surface<Services>, who: CallFor) => SessionCall
  /** The SDK's handler, for everything not taken here. */
  readonly sdk: (req: McpRequest, res: ServerResponse) => Promise<void>
}

export interface HttpFastPath {
  readonly serve: (req: McpRequest, res: ServerResponse) => Promise<void>
  /** Calls answered here since the start. */
  readonly taken: () => number
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

const header = (req: McpRequest, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? undefined : value
}

/** The era a request may be taken in, from its headers alone; undefined leaves it to the SDK unread. */
const eraOf = (req: McpRequest, maxBodyBytes: number): Era | undefined => {
  if (req.method !== "POST" || !isJsonContentType(header(req, "content-type") ?? null)) return undefined
  const length = header(req, "content-length")
  if (length !== undefined && !(Number(length) <= maxBodyBytes)) return undefined
  const accept = header(req, "accept") ?? ""
  if (!accept.includes("application/json")) return undefined
  const version = header(req, "mcp-protocol-version")
  const method = header(req, "mcp-method")
  const name = header(req, "mcp-name")
  if (version === MODERN) return method === "tools/call" && name !== undefined ? "modern" : undefined
  if (version !== undefined && !LEGACY_VERSIONS.has(version)) return undefined
  return method === undefined && name === undefined && accept.includes("text/event-stream") ? "legacy" : undefined
}

/** The request again, for the SDK's adapter, with a body of the bytes already read from it. */
const replay = (req: McpRequest, chunks: ReadonlyArray<Buffer>): McpRequest =>
  Object.assign(Readable.from(chunks), {
    method: req.method,
    url: req.url,
    headers: req.headers,
    auth: req.auth
  }) as unknown as McpRequest

type Body =
  | { readonly _tag: "Complete"; readonly chunks: Array<Buffer> }
  | { readonly _tag: "Over" | "Failed"; readonly chunks: Array<Buffer> }

/** Reads the body, stopping at the first chunk past `max` bytes (the SDK then answers 413 from the same chunks). */
const readBody = (req: McpRequest, max: number): Promise<Body> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size > max) {
        req.pause()
        done({ _tag: "Over", chunks })
      }
    }
    const onEnd = () => done({ _tag: "Complete", chunks })
    const onError = () => done({ _tag: "Failed", chunks })
    const done = (body: Body) => {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onError)
      resolve(body)
    }
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onError)
  })

export const makeHttpFastPath = (options: HttpFastPathOptions): HttpFastPath => {
  const envelopes = new Set<string>()
  const suffix = modernResultSuffix(options.serverInfo)
  const sessions = new WeakMap<Surface<Services>, Map<string, SessionCall>>()
  let taken = 0

  const sessionOf = (principal: AuthExtra | undefined) => {
    const view = options.surface(principal?.grant)
    let calls = sessions.get(view)
    if (calls === undefined || calls.size >= MAX_PRINCIPALS) {
      calls = new Map()
      sessions.set(view, calls)
    }
    const key = principal === undefined ? "" : `${principal.method}:${principal.principal}`
    let call = calls.get(key)
    if (call === undefined) {
      call = options.call(
        view,
        principal === undefined ? {} : { principal: principal.principal, method: principal.method }
      )
      calls.set(key, call)
    }
    return { view, call }
  }

  /** A 2026-07-28 call's envelope and headers are ones the SDK accepts (its classifier, asked once per envelope). */
  const modernFits = (req: McpRequest, body: object, call: PlainCall): boolean => {
    const envelope = call.envelope
    if (envelope === undefined || call.meta?.[PROTOCOL_VERSION_KEY] !== MODERN) return false
    if (header(req, "mcp-name") !== call.name) return false
    if (envelopes.has(envelope)) return true
    const route = classifyInboundRequest({
      httpMethod: "POST",
      body,
      protocolVersionHeader: MODERN,
      mcpMethodHeader: "tools/call",
      mcpNameHeader: call.name
    })
    if (route.kind !== "modern") return false
    if (envelopes.size < MAX_ENVELOPES) envelopes.add(envelope)
    return true
  }

  const answer = (res: ServerResponse, era: Era, json: string) => {
    if (era === "modern") {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) })
      res.end(json)
    } else {
      const text = `event: message\ndata: ${json}\n\n`
      res.writeHead(200, { ...STREAM_HEADERS, "content-length": Buffer.byteLength(text) })
      res.end(text)
    }
  }

  const serve = async (req: McpRequest, res: ServerResponse): Promise<void> => {
    const era = eraOf(req, options.maxBodyBytes)
    if (era === undefined) return options.sdk(req, res)
    const body = await readBody(req, options.maxBodyBytes)
    // The client went away mid-body: there is nothing to run and no one to answer.
    if (body._tag === "Failed") return
    const declined = () => options.sdk(replay(req, body.chunks), res)
    if (body._tag === "Over") return declined()
    let message: unknown
    try {
      const bytes = body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks)
      message = JSON.parse(utf8.decode(bytes))
    } catch {
      return declined()
    }
    const call = isPlainObject(message) ? plainCall(message) : undefined
    if (call === undefined) return declined()
    const session = sessionOf(principalOf(req.auth))
    const entry = session.view.tools.get(call.name)
    if (entry === undefined) return declined()
    if (era === "modern" ? !modernFits(req, message as object, call) : call.envelope !== undefined) return declined()

    taken++
    const running = session.call(entry, call.args, { id: call.id, meta: call.meta })
    let finished = false
    res.once("close", () => {
      if (!finished) running.cancel()
    })
    const outcome = await running.outcome
    finished = true
    if (res.destroyed) return
    answer(res, era, encodeAnswer(call.id, outcome, era === "modern" ? suffix : ""))
  }

  return { serve, taken: () => taken }
}
