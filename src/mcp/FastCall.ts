/**
 * What a `tools/call` must look like for a transport's fast path to answer it
 * itself (StdioFastPath.ts, HttpFastPath.ts), and the bytes of that answer. The
 * shape is a strict subset of what the SDK accepts and hands unchanged to the
 * edge's handler; whatever else a transport requires (its era, an envelope the
 * SDK has accepted, headers) it checks on top.
 */
import type { RequestId } from "@modelcontextprotocol/server"
import { type CallOutcome, failureText } from "./Envelope.ts"
import { isRequestId } from "./JsonRpcLine.ts"

export type Json = Record<string, unknown>

/** The per-request envelope of 2026-07-28, in the order its canonical form lists them. */
const ENVELOPE_KEYS: ReadonlyArray<string> = [
  "io.modelcontextprotocol/protocolVersion",
  "io.modelcontextprotocol/clientInfo",
  "io.modelcontextprotocol/clientCapabilities",
  "io.modelcontextprotocol/logLevel"
]
const TRACE_KEYS: ReadonlySet<string> = new Set(["traceparent", "tracestate", "baggage"])
export const PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
export const SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

export const isPlainObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Whether two parsed JSON values would serialise to the same text (same keys in the same order). */
const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!
    if (k !== kb[i] || !sameJson((a as Json)[k], (b as Json)[k])) return false
  }
  return true
}

/** An envelope key the request did not have. */
const ABSENT: unique symbol = Symbol("absent")

/**
 * The last envelope made into a string, with the values it was made from: a client sends the
 * same envelope on every request, so its string is made once (and its hash, for the lookups
 * of the accepted envelopes, kept with it) instead of once per request.
 */
let lastEnvelope: { readonly values: ReadonlyArray<unknown>; readonly text: string | undefined } | undefined

/** The envelope part of a request's `_meta` as one string (absent keys stay apart from null); undefined without one. */
export const envelopeOf = (meta: Json): string | undefined => {
  const last = lastEnvelope
  if (last !== undefined) {
    let same = true
    for (let i = 0; i < ENVELOPE_KEYS.length && same; i++) {
      const k = ENVELOPE_KEYS[i]!
      const had = last.values[i]
      same = Object.hasOwn(meta, k) ? had !== ABSENT && sameJson(meta[k], had) : had === ABSENT
    }
    if (same) return last.text
  }
  let key: string | undefined
  const values: Array<unknown> = []
  for (const k of ENVELOPE_KEYS) {
    const present = Object.hasOwn(meta, k)
    // A copy: the request's own objects may be changed by whoever handles it next.
    values.push(present ? structuredClone(meta[k]) : ABSENT)
    if (present) key = `${key ?? ""}${k}=${JSON.stringify(meta[k])}\n`
  }
  lastEnvelope = { values, text: key }
  return key
}

/** A `tools/call` of the plain shape. */
export interface PlainCall {
  readonly id: RequestId
  readonly name: string
  /** Absent, or a JSON object. */
  readonly args: Json | undefined
  readonly meta: Json | undefined
  /** The envelope of `meta` (envelopeOf), undefined when it carries none. */
  readonly envelope: string | undefined
}

/**
 * The call when `m` is exactly {jsonrpc: "2.0", id (a string or an integer), method:
 * "tools/call", params}, params hold only `name` (a string), `arguments` (absent or a JSON
 * object) and `_meta`, and `_meta` (absent or an object) only `progressToken` (a request id),
 * `traceparent`, `tracestate`, `baggage` (strings) and the envelope keys. Undefined otherwise.
 */
export const plainCall = (m: Json): PlainCall | undefined => {
  if (m.jsonrpc !== "2.0" || m.method !== "tools/call" || !isRequestId(m.id)) return undefined
  for (const k in m) if (k !== "jsonrpc" && k !== "id" && k !== "method" && k !== "params") return undefined
  const params = m.params
  if (!isPlainObject(params)) return undefined
  let name: unknown
  let args: unknown
  let meta: unknown
  for (const k in params) {
    if (k === "name") name = params.name
    else if (k === "arguments") args = params.arguments
    else if (k === "_meta") meta = params._meta
    else return undefined
  }
  if (typeof name !== "string" || (args !== undefined && !isPlainObject(args))) return undefined
  if (meta === undefined) return { id: m.id, name, args, meta, envelope: undefined }
  if (!isPlainObject(meta)) return undefined
  let envelope = false
  for (const k in meta) {
    const v = meta[k]
    if (k === "progressToken") {
      if (!isRequestId(v)) return undefined
    } else if (TRACE_KEYS.has(k)) {
      if (typeof v !== "string") return undefined
    } else if (ENVELOPE_KEYS.includes(k)) envelope = true
    else return undefined
  }
  return { id: m.id, name, args, meta, envelope: envelope ? envelopeOf(meta) : undefined }
}

/** What a 2026-07-28 result carries after the call's own fields: resultType and the SDK's serverInfo stamp. */
export const modernResultSuffix = (serverInfo: unknown): string =>
  `,"resultType":"complete","_meta":{"${SERVER_INFO_KEY}":${JSON.stringify(serverInfo)}}`

/**
 * The bytes the SDK writes for a call's result: {"result":{content, structuredContent |
 * isError[, suffix]},"jsonrpc":"2.0","id"}, the output's JSON text spliced in as encoded once.
 */
export const encodeAnswer = (id: RequestId, outcome: CallOutcome, suffix: string): string => {
  const body =
    outcome._tag === "Success"
      ? `{"content":[{"type":"text","text":${JSON.stringify(outcome.json)}}],"structuredContent":${outcome.json}`
      : `{"content":[{"type":"text","text":${JSON.stringify(failureText(outcome.error))}}],"isError":true`
  return `{"result":${body}${suffix}},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`
}
