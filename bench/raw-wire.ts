/**
 * The bytes of the raw stdio driver (raw-stdio.ts): the lines the SDK clients
 * write, byte for byte (checked by `npx node bench/raw-parity.ts`), and a
 * cheap reading of the answers: the id from its fixed spot, a substring check
 * for errors and for the expected answer, a full JSON.parse only when a check
 * trips or for a sample.
 */
import type { Era } from "./stdio-client.ts"

/** The client the lines name (the bench's SDK clients use the same). */
export const CLIENT_INFO = { name: "bench", version: "1.0.0" } as const

/** The per-request `_meta` envelope the v2 Client pinned to 2026-07-28 puts on every request. */
export const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
  "io.modelcontextprotocol/clientCapabilities": {}
} as const

/** 2025-11-25: the v1 Client's `initialize` and `notifications/initialized`. */
export const initializeLine = (id: number): string =>
  `${JSON.stringify({
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: CLIENT_INFO },
    jsonrpc: "2.0",
    id
  })}\n`
export const INITIALIZED_LINE = `${JSON.stringify({ method: "notifications/initialized", jsonrpc: "2.0" })}\n`

/** The id of the v2 Client's `server/discover` probe (its numbered requests start at 0 after it). */
export const DISCOVER_ID = "server-discover-probe-1"

/** 2026-07-28: the v2 Client's `server/discover` probe (its key order differs from its other requests). */
export const DISCOVER_LINE = `${JSON.stringify({ jsonrpc: "2.0", id: DISCOVER_ID, method: "server/discover", params: { _meta: ENVELOPE } })}\n`

export const toolsListLine = (era: Era, id: number): string =>
  `${JSON.stringify({ method: "tools/list", jsonrpc: "2.0", id, ...(era === "2026-07-28" ? { params: { _meta: ENVELOPE } } : {}) })}\n`

/**
 * A `tools/call` serialised once: `line(id)` only appends the id.
 * Same key order as both SDK clients: method, params (name, arguments[, _meta]), jsonrpc, id.
 */
export const toolsCallTemplate = (era: Era, name: string, args: Record<string, unknown>): ((id: number) => string) => {
  const params = era === "2026-07-28" ? { name, arguments: args, _meta: ENVELOPE } : { name, arguments: args }
  const head = `{"method":"tools/call","params":${JSON.stringify(params)},"jsonrpc":"2.0","id":`
  return (id) => `${head}${id}}\n`
}

const HEAD = '{"jsonrpc":"2.0","id":'
const isDigit = (c: number) => c >= 48 && c <= 57

/**
 * The numeric id of an answer from one of its two fixed spots: last member
 * (`…,"id":7}`, the v2 SDK's order) or first (`{"jsonrpc":"2.0","id":7,…`,
 * the v1 SDK's). Either spot can only be the top-level id: a nested `"id"`
 * cannot end the line, nor follow the opening `{"jsonrpc":"2.0",`. -1 when
 * neither spot holds an integer (notifications, server requests, other
 * layouts): the caller parses the line then.
 */
export const quickId = (line: string): number => {
  const end = line.length - 1
  if (line.charCodeAt(end) === 125) {
    let j = end - 1
    while (j >= 0 && isDigit(line.charCodeAt(j))) j--
    if (j < end - 1 && line.startsWith('"id":', j - 4)) return Number(line.slice(j + 1, end))
  }
  if (line.startsWith(HEAD)) {
    let k = HEAD.length
    while (k < line.length && isDigit(line.charCodeAt(k))) k++
    const next = line.charCodeAt(k)
    if (k > HEAD.length && (next === 44 || next === 125)) return Number(line.slice(HEAD.length, k))
  }
  return -1
}

/** A call that did not get the answer it should have: an error, or not what was expected. Fails the target. */
export class WrongAnswer extends Error {}

export interface Message {
  readonly id?: unknown
  readonly method?: string
  readonly result?: {
    readonly isError?: boolean
    readonly content?: ReadonlyArray<{ readonly text?: string }>
    readonly structuredContent?: unknown
  }
  readonly error?: { readonly code?: number; readonly message?: string }
}

/** Throws WrongAnswer unless `msg` is a tool result that is not an error. */
export const checkResult = (msg: Message): NonNullable<Message["result"]> => {
  if (msg.error !== undefined) throw new WrongAnswer(`JSON-RPC error ${msg.error.code}: ${msg.error.message}`)
  const result = msg.result
  if (typeof result !== "object" || result === null || !Array.isArray(result.content))
    throw new WrongAnswer(`not a tool result: ${JSON.stringify(msg).slice(0, 200)}`)
  if (result.isError === true) throw new WrongAnswer(`tool error: ${result.content[0]?.text?.slice(0, 200) ?? ""}`)
  return result
}

/**
 * The cheap check every answer gets: a line that mentions `"isError":true`
 * or an `"error":` member is parsed and checked in full (a false alarm, such
 * as a value holding that text, passes); `expect`, when given, must occur in
 * the line. Returns the parsed message when it had to parse.
 */
export const checkLine = (line: string, expect: string | undefined): Message | undefined => {
  let parsed: Message | undefined
  if (line.includes('"isError":true') || line.includes('"error":')) {
    parsed = JSON.parse(line) as Message
    checkResult(parsed)
  }
  if (expect !== undefined && !line.includes(expect))
    throw new WrongAnswer(`the answer lacks ${JSON.stringify(expect.slice(0, 40))}: ${line.slice(0, 200)}`)
  return parsed
}
