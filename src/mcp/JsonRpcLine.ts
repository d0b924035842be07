/**
 * What the stdio wire does with one line: deliver it to the SDK, answer it with
 * a JSON-RPC error (JSON-RPC 2.0 §5.1), or drop it (a malformed notification or
 * response is never answered). Only messages the SDK itself accepts are
 * delivered, so nothing it would silently discard reaches it.
 */
import {
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  type JSONRPCMessage,
  RELATED_TASK_META_KEY,
  type RequestId
} from "@modelcontextprotocol/server"

export const PARSE_ERROR = -32700
export const INVALID_REQUEST = -32600
export const INVALID_PARAMS = -32602

export type Verdict =
  | {
      readonly _tag: "Deliver"
      readonly kind: "request" | "notification" | "response"
      readonly message: JSONRPCMessage
    }
  | { readonly _tag: "Answer"; readonly id: RequestId | null; readonly code: number; readonly message: string }
  | { readonly _tag: "Drop"; readonly reason: string }
  | { readonly _tag: "Blank" }

const MEMBERS = new Set(["jsonrpc", "id", "method", "params", "result", "error"])
const utf8 = new TextDecoder("utf-8", { fatal: true })

/** At most `max` characters of `text`, marked when cut. */
export const excerpt = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max)}…` : text)

/** A JSON-RPC id MCP accepts: a string or an integer JSON numbers carry exactly. */
export const isRequestId = (value: unknown): value is RequestId =>
  typeof value === "string" || (typeof value === "number" && Number.isSafeInteger(value))

const describe = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "number") return Number.isInteger(value) ? "an integer beyond 2^53" : "a fractional number"
  return `a ${typeof value === "object" ? "object" : typeof value}`
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const answer = (id: RequestId | null, code: number, message: string): Verdict => ({ _tag: "Answer", id, code, message })

/**
 * True when what the SDK's message schemas still check after `problemOf`'s own checks (the
 * `_meta` keys they know) plainly holds: no `_meta`, or one whose progressToken is a request id
 * and that carries no related-task key. False means "ask the schema", not "invalid": this is a
 * strict subset of what the schemas accept, so a line is judged the same either way, without a
 * schema parse for the requests clients actually send.
 */
const metaPlainlyFits = (params: Record<string, unknown> | undefined): boolean => {
  const meta = params?._meta as Record<string, unknown> | undefined
  if (meta === undefined) return true
  const token = meta.progressToken
  return (token === undefined || isRequestId(token)) && meta[RELATED_TASK_META_KEY] === undefined
}

/** The first reason a request or notification is not one MCP can serve, or undefined. */
const problemOf = (m: Record<string, unknown>, hasId: boolean): { code: number; message: string } | undefined => {
  const invalid = (message: string) => ({ code: INVALID_REQUEST, message: `Invalid Request: ${message}` })
  if (m.jsonrpc !== "2.0") return invalid(`"jsonrpc" must be "2.0"`)
  if (hasId && !isRequestId(m.id)) return invalid(`"id" must be a string or an integer, not ${describe(m.id)}`)
  if (typeof m.method !== "string") return invalid(`"method" must be a string, not ${describe(m.method)}`)
  const params = m.params
  if (params !== undefined && !isPlainObject(params)) {
    if (Array.isArray(params)) {
      return {
        code: INVALID_PARAMS,
        message: `Invalid params: MCP methods take named params (an object), not an array`
      }
    }
    return invalid(`"params" must be an object or an array, not ${describe(params)}`)
  }
  const extra = Object.keys(m).find((k) => !MEMBERS.has(k) || k === "result" || k === "error")
  if (extra !== undefined) return invalid(`unexpected member ${JSON.stringify(excerpt(extra, 50))}`)
  if (params !== undefined && params._meta !== undefined && !isPlainObject(params._meta)) {
    return invalid(`"params._meta" must be an object, not ${describe(params._meta)}`)
  }
  const accepted = metaPlainlyFits(params) || (hasId ? isJSONRPCRequest(m) : isJSONRPCNotification(m))
  return accepted
    ? undefined
    : invalid(`"params._meta" does not match the MCP schema (e.g. a fractional progressToken)`)
}

/** Classifies one line (without its `\n`) received on stdin. */
export const checkLine = (bytes: Buffer): Verdict => {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return answer(null, PARSE_ERROR, "Parse error: the line is not valid UTF-8")
  }
  if (text.trim() === "") return { _tag: "Blank" }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return answer(null, PARSE_ERROR, `Parse error: ${excerpt(error instanceof Error ? error.message : String(error))}`)
  }
  if (Array.isArray(value)) {
    return answer(
      null,
      INVALID_REQUEST,
      "Invalid Request: batch arrays are not supported (MCP dropped JSON-RPC batching in 2025-06-18); send one message per line"
    )
  }
  if (!isPlainObject(value)) {
    return answer(null, INVALID_REQUEST, `Invalid Request: a message must be a JSON object, not ${describe(value)}`)
  }
  const hasId = Object.hasOwn(value, "id")
  const id = hasId && isRequestId(value.id) ? value.id : null
  if (!Object.hasOwn(value, "method")) {
    if (Object.hasOwn(value, "result") || Object.hasOwn(value, "error")) {
      return isJSONRPCResponse(value)
        ? { _tag: "Deliver", kind: "response", message: value as JSONRPCMessage }
        : { _tag: "Drop", reason: "malformed response" }
    }
    return answer(id, INVALID_REQUEST, `Invalid Request: no "method"`)
  }
  const notification = !hasId && typeof value.method === "string"
  const problem = problemOf(value, hasId)
  if (problem === undefined) {
    return { _tag: "Deliver", kind: notification ? "notification" : "request", message: value as JSONRPCMessage }
  }
  if (notification) return { _tag: "Drop", reason: `malformed notification: ${problem.message}` }
  return answer(id, problem.code, problem.message)
}
