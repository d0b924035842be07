/**
 * Requests for the HTTP fast-path parity test: both eras, successes, tool errors,
 * every way a `tools/call` can be malformed or out of place, headers missing or
 * wrong, credentials missing or wrong, a role's refusals, bodies over the limit,
 * foreign Host and Origin. Each request is sent as written (headers and bytes).
 */
import type { Era } from "./parity.ts"
import { fuzzSteps } from "./parity-fuzz.ts"
import { MODERN_META } from "./raw.ts"

export interface HttpCase {
  readonly label: string
  readonly method?: string
  readonly path?: string
  readonly headers: Record<string, string>
  /** The body: text, or bytes sent as they are. */
  readonly body?: string | Buffer
  /** Sent in pieces without a Content-Length (chunked). */
  readonly chunked?: boolean
}

const MODERN = "2026-07-28"
const ENV = MODERN_META as Record<string, unknown>
const PV = "io.modelcontextprotocol/protocolVersion"
const CAPS = "io.modelcontextprotocol/clientCapabilities"

export interface Tokens {
  readonly admin: string
  readonly reader: string
}

const auth = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` }

export const modernHeaders = (name: string, token?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": MODERN,
  "mcp-method": "tools/call",
  "mcp-name": name,
  ...auth(token)
})

const legacyHeaders = (token?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
  ...auth(token)
})

const rpc = (id: unknown, method: string, params: unknown) => JSON.stringify({ jsonrpc: "2.0", id, method, params })
/** A tools/call body; `meta` undefined or null: no `_meta`. */
const call = (name: string, args: unknown, meta: unknown, id: unknown = 1) =>
  rpc(
    id,
    "tools/call",
    meta === undefined || meta === null ? { name, arguments: args } : { name, arguments: args, _meta: meta }
  )

/** A set whose value holds a byte that is not UTF-8. */
const invalidUtf8 = () => {
  const [before, after] = call("set", { key: "mine:c", value: "A#B" }, ENV).split("#")
  return Buffer.concat([Buffer.from(before!), Buffer.from([0xff]), Buffer.from(after!)])
}

const without = (headers: Record<string, string>, name: string) => {
  const { [name]: _, ...rest } = headers
  return rest
}

/** 2026-07-28 requests, as a token `token` holder sends them (undefined: no Authorization header). */
export const modernCases = (token: string | undefined): ReadonlyArray<HttpCase> => {
  const h = (name: string) => modernHeaders(name, token)
  const c = (label: string, name: string, args: unknown, meta?: unknown, id?: unknown): HttpCase => ({
    label,
    headers: h(name),
    body: call(name, args, meta === undefined ? ENV : meta, id ?? 1)
  })
  /** A plain get of mine:a with other headers. */
  const hv = (label: string, headers: Record<string, string>): HttpCase => ({
    label,
    headers,
    body: call("get", { key: "mine:a" }, ENV)
  })
  return [
    c("2026 set", "set", { key: "mine:a", value: "hello" }),
    c("2026 get", "get", { key: "mine:a" }),
    c("2026 get again (the envelope known)", "get", { key: "mine:a" }, ENV, 2),
    c("2026 string id", "get", { key: "mine:a" }, ENV, "x-1"),
    c("2026 missing key", "get", { key: "mine:none" }),
    c("2026 unicode and nesting", "set", { key: "mine:ü", value: '\u2028 "quoted" 🙂' }),
    c("2026 hset", "hset", { key: "mine:h", fields: { f: "v" } }),
    c("2026 tool error (wrong type)", "hget", { key: "mine:a", field: "f" }),
    c("2026 invalid arguments", "get", { key: 1 }),
    c("2026 no arguments", "get", undefined),
    c("2026 arguments array", "get", [1]),
    c("2026 arguments string", "get", "x"),
    c("2026 a key outside a role", "get", { key: "theirs" }),
    c("2026 a write", "set", { key: "mine:b", value: "1" }),
    c("2026 unknown tool", "nope", {}),
    c("2026 tool of a toolset that is off", "xadd", { key: "mine:s", fields: { a: "1" } }),
    c(
      "2026 clientInfo",
      "get",
      { key: "mine:a" },
      { ...ENV, "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" } }
    ),
    c("2026 clientInfo invalid", "get", { key: "mine:a" }, { ...ENV, "io.modelcontextprotocol/clientInfo": 5 }),
    c("2026 envelope without capabilities", "get", { key: "mine:a" }, { [PV]: MODERN }),
    c("2026 capabilities invalid", "get", { key: "mine:a" }, { ...ENV, [CAPS]: { sampling: 5 } }),
    c("2026 logLevel info", "get", { key: "mine:a" }, { ...ENV, "io.modelcontextprotocol/logLevel": "info" }),
    c("2026 logLevel bogus", "get", { key: "mine:a" }, { ...ENV, "io.modelcontextprotocol/logLevel": "loud" }),
    c("2026 progressToken", "get", { key: "mine:a" }, { ...ENV, progressToken: "p" }),
    c("2026 fractional progressToken", "get", { key: "mine:a" }, { ...ENV, progressToken: 1.5 }),
    c(
      "2026 traceparent",
      "get",
      { key: "mine:a" },
      { ...ENV, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }
    ),
    c("2026 vendor _meta key", "get", { key: "mine:a" }, { ...ENV, "example.com/x": 1 }),
    c("2026 no _meta", "get", { key: "mine:a" }, null),
    c("2026 fractional id", "get", { key: "mine:a" }, ENV, 1.5),
    c("2026 null id", "get", { key: "mine:a" }, ENV, null),
    {
      label: "2026 envelope version 2099",
      headers: { ...h("get"), "mcp-protocol-version": "2099-01-01" },
      body: call("get", { key: "mine:a" }, { ...ENV, [PV]: "2099-01-01" })
    },
    hv("2026 no version header", without(h("get"), "mcp-protocol-version")),
    hv("2026 version header 2025", { ...h("get"), "mcp-protocol-version": "2025-11-25" }),
    hv("2026 no Mcp-Method", without(h("get"), "mcp-method")),
    hv("2026 Mcp-Method tools/list", { ...h("get"), "mcp-method": "tools/list" }),
    hv("2026 no Mcp-Name", without(h("get"), "mcp-name")),
    hv("2026 Mcp-Name of another tool", h("set")),
    hv("2026 Mcp-Name in base64", { ...h("get"), "mcp-name": "=?base64?Z2V0?=" }),
    hv("2026 Accept event-stream only", { ...h("get"), accept: "text/event-stream" }),
    hv("2026 Accept JSON only", { ...h("get"), accept: "application/json" }),
    hv("2026 no Accept", without(h("get"), "accept")),
    hv("2026 Content-Type text/plain", { ...h("get"), "content-type": "text/plain" }),
    hv("2026 Content-Type with charset", { ...h("get"), "content-type": "application/json; charset=utf-8" }),
    { label: "2026 sent chunked", headers: h("get"), body: call("get", { key: "mine:a" }, ENV), chunked: true },
    {
      label: "2026 extra param key",
      headers: h("get"),
      body: rpc(1, "tools/call", { name: "get", arguments: { key: "mine:a" }, _meta: ENV, task: { ttl: 1 } })
    },
    {
      label: "2026 extra top-level key",
      headers: h("get"),
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "get", arguments: { key: "mine:a" }, _meta: ENV },
        x: 1
      })
    },
    {
      label: "2026 jsonrpc 1.0",
      headers: h("get"),
      body: JSON.stringify({
        jsonrpc: "1.0",
        id: 1,
        method: "tools/call",
        params: { name: "get", arguments: { key: "mine:a" }, _meta: ENV }
      })
    },
    { label: "2026 malformed JSON", headers: h("get"), body: "{nope" },
    { label: "2026 empty body", headers: h("get"), body: "" },
    { label: "2026 a byte-order mark", headers: h("get"), body: `\uFEFF${call("get", { key: "mine:a" }, ENV)}` },
    { label: "2026 invalid UTF-8 in a value", headers: h("set"), body: invalidUtf8() },
    {
      label: "2026 batch",
      headers: h("get"),
      body: `[${call("get", { key: "mine:a" }, ENV)},${call("get", { key: "mine:a" }, ENV, 2)}]`
    },
    {
      label: "2026 notification",
      headers: { ...h("get"), "mcp-method": "notifications/cancelled" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: ENV } })
    },
    {
      label: "2026 tools/list",
      headers: { ...h("get"), "mcp-method": "tools/list" },
      body: rpc(1, "tools/list", { _meta: ENV })
    },
    { label: "2026 GET", method: "GET", headers: h("get") },
    { label: "2026 DELETE", method: "DELETE", headers: h("get") },
    hv("2026 foreign Origin", { ...h("get"), origin: "https://evil.example" }),
    hv("2026 foreign Host", { ...h("get"), host: "evil.example" }),
    { label: "2026 a call after all of it", headers: h("get"), body: call("get", { key: "mine:a" }, ENV, 99) }
  ]
}

/** 2025-era stateless requests. */
export const legacyCases = (token: string | undefined): ReadonlyArray<HttpCase> => {
  const h = legacyHeaders(token)
  const c = (label: string, name: string, args: unknown, id: unknown = 1): HttpCase => ({
    label,
    headers: h,
    body: call(name, args, undefined, id)
  })
  return [
    c("2025 set", "set", { key: "mine:l", value: "v" }),
    c("2025 get", "get", { key: "mine:l" }),
    c("2025 string id", "get", { key: "mine:l" }, "s"),
    c("2025 tool error", "hget", { key: "mine:l", field: "f" }),
    c("2025 invalid arguments", "get", { key: 1 }),
    c("2025 arguments string", "get", "x"),
    c("2025 unknown tool", "nope", {}),
    c("2025 a key outside a role", "get", { key: "theirs" }),
    { label: "2025 progressToken", headers: h, body: call("get", { key: "mine:l" }, { progressToken: 7 }) },
    {
      label: "2025 no version header",
      headers: without(h, "mcp-protocol-version"),
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 version 2025-06-18",
      headers: { ...h, "mcp-protocol-version": "2025-06-18" },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 version 2024-11-05",
      headers: { ...h, "mcp-protocol-version": "2024-11-05" },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 version bogus",
      headers: { ...h, "mcp-protocol-version": "1999-01-01" },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 Accept JSON only",
      headers: { ...h, accept: "application/json" },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 with Mcp-Method",
      headers: { ...h, "mcp-method": "tools/call" },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 no envelope, 2026 header",
      headers: { ...h, "mcp-protocol-version": MODERN },
      body: call("get", { key: "mine:l" }, undefined)
    },
    {
      label: "2025 batch",
      headers: h,
      body: `[${call("get", { key: "mine:l" }, undefined)},${call("get", { key: "mine:l" }, undefined, 2)}]`
    },
    {
      label: "2025 notification",
      headers: h,
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })
    },
    {
      label: "2025 initialize",
      headers: without(h, "mcp-protocol-version"),
      body: rpc(1, "initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "t", version: "1" }
      })
    }
  ]
}

/** Bodies over a limit of `max` bytes: declared up front, and sent chunked. */
export const oversizedCases = (token: string | undefined, max: number): ReadonlyArray<HttpCase> => {
  const big = call("set", { key: "mine:big", value: "x".repeat(max) }, ENV)
  return [
    { label: "over the limit, declared", headers: modernHeaders("set", token), body: big },
    { label: "over the limit, chunked", headers: modernHeaders("set", token), body: big, chunked: true },
    {
      label: "2025 over the limit, chunked",
      headers: legacyHeaders(token),
      body: call("set", { key: "mine:big", value: "x".repeat(max) }, undefined),
      chunked: true
    }
  ]
}

/** The stdio parity test's seeded `tools/call` shapes (parity-fuzz.ts), each POSTed as a client of `era` would. */
export const fuzzCases = (era: Era, seed: number, count: number, token: string): ReadonlyArray<HttpCase> =>
  fuzzSteps(era, seed, count).flatMap((step) =>
    step.lines.map((line, i) => {
      const name = (JSON.parse(line) as { params?: { name?: unknown } }).params?.name
      return {
        label: `${era} ${step.label} (${i + 1})`,
        headers:
          era === "2026-07-28" ? modernHeaders(typeof name === "string" ? name : "get", token) : legacyHeaders(token),
        body: line
      }
    })
  )
