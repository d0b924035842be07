/**
 * The stdio fast path for `tools/call`. A request the SDK would accept and hand
 * unchanged to the edge's handler is answered here instead, through the same call
 * path (Call.ts: role checks, limits, audit, span, cancellation), without the SDK's
 * request pipeline (its schema parses, envelope lift and check, per-request context,
 * result re-validation), with the result encoded once and written in the exact bytes
 * the SDK writes. Everything else, every error included, goes to the SDK.
 *
 * A request is taken only when all of this holds:
 * - the connection is established, as the SDK's own answers show: a 2025 connection
 *   once it answered `initialize` with a result; a 2026-07-28 one once it answered a
 *   request other than `server/discover` with a result (which pins it for good);
 * - the message is exactly {jsonrpc, id, method: "tools/call", params}, and no request
 *   in flight, ours or the SDK's, has its id (a string or an integer);
 * - params hold only `name` (a tool of this session), `arguments` (absent or a JSON
 *   object) and `_meta`, whose keys are only `progressToken` (string or integer),
 *   `traceparent`, `tracestate`, `baggage` (strings) and, on a 2026 connection where
 *   they are required, the envelope keys: an envelope the SDK has already answered a
 *   request carrying on this connection (none on a 2025 one).
 *
 * Cancellation: a `notifications/cancelled` the SDK would honour aborts the call (its
 * fiber is interrupted) and its answer is never written; the notification still goes
 * on to the SDK. A later request with the same id takes the id over, as in the SDK:
 * a cancel is then for it. No tool sends progress, so a `progressToken` changes nothing.
 * Closing the wire aborts every call. REDIS_MCP_FASTPATH=0 leaves it all to the SDK.
 */
import type {
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions
} from "@modelcontextprotocol/server"
import type { Services } from "../services/Stack.ts"
import type { RunningCall, SessionCall } from "./Call.ts"
import {
  encodeAnswer,
  envelopeOf,
  isPlainObject,
  type Json,
  modernResultSuffix,
  plainCall,
  SERVER_INFO_KEY
} from "./FastCall.ts"
import { isRequestId } from "./JsonRpcLine.ts"
import type { ToolEntry } from "./Registry.ts"
import { TransportDecorator } from "./TransportDecorator.ts"

const SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId"
/** Envelopes remembered as accepted; a client that keeps changing its envelope just goes through the SDK. */
const MAX_ENVELOPES = 32

interface FastCall {
  readonly running: RunningCall
  /** Cancelled: its answer is never written. */
  cancelled: boolean
  /** A request with the same id reached the SDK: like the SDK's own map, a cancel is now for that one. */
  superseded: boolean
}

/** A request handed to the SDK, until it answers: what it was, to learn from the answer. */
interface Forwarded {
  /** Empty once several requests share the id: their answers cannot be told apart, so teach nothing. */
  method: string
  envelope: string | undefined
  count: number
}

export interface FastPathOptions {
  /** The session's tools (what `tools/list` showed it). */
  readonly tools: ReadonlyMap<string, ToolEntry<Services>>
  /** The session's call path: the one its SDK handler uses. */
  readonly call: SessionCall
  /** Writes one answer (a JSON-RPC message as JSON text, no newline) for request `id`. */
  readonly answer: (id: RequestId, text: string) => void
}

export class StdioFastPath extends TransportDecorator {
  private era: "legacy" | "modern" | undefined
  private taken = 0
  /** What a 2026 result carries after the call's own fields: resultType and the SDK's serverInfo stamp. */
  private resultSuffix = ""
  private readonly envelopes = new Set<string>()
  private readonly calls = new Map<RequestId, FastCall>()
  private readonly forwarded = new Map<RequestId, Forwarded>()
  private readonly options: FastPathOptions

  constructor(inner: Transport, options: FastPathOptions) {
    super(inner)
    this.options = options
  }

  /** Calls taken here and not finished yet (cancelled ones until their fiber ends). */
  get callsInFlight(): number {
    return this.calls.size
  }

  /** Calls taken here since the connection opened. */
  get callsTaken(): number {
    return this.taken
  }

  protected closed(): void {
    for (const call of this.calls.values()) this.stop(call)
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as { id?: RequestId; result?: unknown; error?: unknown }
    if (m.id !== undefined && (m.result !== undefined || m.error !== undefined)) this.answered(m.id, m.result)
    return super.send(message, options)
  }

  protected inbound(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const m = message as Json
    if (m.method === "tools/call" && this.era !== undefined && this.take(m)) return
    if (m.id !== undefined && typeof m.method === "string") this.forward(m.id as RequestId, m.method, m.params)
    else if (m.method === "notifications/cancelled") this.cancel(m.params)
    this.onmessage?.(message, extra)
  }

  /** Runs the call here when the rules above allow it; false leaves it to the SDK. */
  private take(m: Json): boolean {
    const call = plainCall(m)
    if (call === undefined || this.calls.has(call.id) || this.forwarded.has(call.id)) return false
    const entry = this.options.tools.get(call.name)
    if (entry === undefined) return false
    // 2025: no envelope; 2026: one the SDK has already accepted on this connection.
    if (
      this.era === "legacy"
        ? call.envelope !== undefined
        : call.envelope === undefined || !this.envelopes.has(call.envelope)
    )
      return false
    this.run(call.id, entry, call.args, call.meta)
    return true
  }

  private run(id: RequestId, entry: ToolEntry<Services>, args: unknown, meta: Json | undefined): void {
    const call: FastCall = {
      running: this.options.call(entry, args, { id, meta }),
      cancelled: false,
      superseded: false
    }
    this.calls.set(id, call)
    this.taken++
    call.running.outcome.then((outcome) => {
      this.calls.delete(id)
      if (call.cancelled) return
      let text: string
      try {
        text = encodeAnswer(id, outcome, this.resultSuffix)
      } catch (error) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)))
        text = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":-32603,"message":"Internal error"}}`
      }
      this.options.answer(id, text)
    })
  }

  private forward(id: RequestId, method: string, params: unknown): void {
    const call = this.calls.get(id)
    if (call !== undefined) call.superseded = true
    const known = this.forwarded.get(id)
    if (known !== undefined) {
      known.count++
      known.method = ""
      return
    }
    const meta = isPlainObject(params) && isPlainObject(params._meta) ? params._meta : undefined
    this.forwarded.set(id, { method, envelope: meta === undefined ? undefined : envelopeOf(meta), count: 1 })
  }

  /** A cancel the SDK's schema accepts: ends our call of that id, and the SDK's request will not be answered. */
  private cancel(params: unknown): void {
    if (!isPlainObject(params) || !isRequestId(params.requestId)) return
    if (params.reason !== undefined && typeof params.reason !== "string") return
    const meta = params._meta
    if (meta !== undefined && !isPlainObject(meta)) return
    if (this.era === "modern" && meta?.[SUBSCRIPTION_ID_KEY] !== undefined && !isRequestId(meta[SUBSCRIPTION_ID_KEY]))
      return
    const id = params.requestId
    const call = this.calls.get(id)
    if (call !== undefined && !call.superseded) this.stop(call)
    this.forwarded.delete(id)
  }

  private stop(call: FastCall): void {
    if (call.cancelled) return
    call.cancelled = true
    call.running.cancel()
  }

  /** The SDK answered a request: learn the connection's era and which envelopes it accepts. */
  private answered(id: RequestId, result: unknown): void {
    const request = this.forwarded.get(id)
    if (request === undefined) return
    if (--request.count === 0) this.forwarded.delete(id)
    if (!isPlainObject(result) || request.method === "") return
    const modernResult = Object.hasOwn(result, "resultType")
    if (this.era === undefined) {
      if (request.method === "initialize" && !modernResult) this.era = "legacy"
      else if (modernResult && request.method !== "server/discover") {
        const serverInfo = isPlainObject(result._meta) ? result._meta[SERVER_INFO_KEY] : undefined
        if (serverInfo === undefined) return
        this.era = "modern"
        this.resultSuffix = modernResultSuffix(serverInfo)
      }
    }
    if (
      this.era === "modern" &&
      modernResult &&
      request.envelope !== undefined &&
      this.envelopes.size < MAX_ENVELOPES
    ) {
      this.envelopes.add(request.envelope)
    }
  }
}
