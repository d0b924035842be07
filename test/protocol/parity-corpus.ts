/**
 * The parity corpus: requests a client may send, for both protocol eras, meant to
 * reach every rule of the stdio fast path (StdioFastPath.ts) on both of its
 * sides: calls it must take (and answer in the SDK's bytes, success and failure
 * shapes), and calls it must leave to the SDK (odd ids, params, `_meta`,
 * envelopes, unknown tools, malformed lines), with cancellation and id reuse.
 * Outputs must not depend on time: no ping tool (its latency), no stream ids.
 */

import type { Era, Step } from "./parity.ts"
import { MODERN_META } from "./raw.ts"

const V = "2026-07-28"
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

export const json = (value: unknown): string => JSON.stringify(value)
export const callLine = (id: unknown, params: unknown): string =>
  json({ method: "tools/call", jsonrpc: "2.0", id, params })
export const cancelLine = (era: Era, params: Record<string, unknown>): string =>
  json({
    method: "notifications/cancelled",
    jsonrpc: "2.0",
    params: era === V ? { _meta: MODERN_META, ...params } : params
  })

/** `_meta` for a request of this era: the envelope (2026) plus `extra`; none at all when both are empty. */
export const metaOf = (era: Era, extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const meta = era === V ? { ...MODERN_META, ...extra } : extra
  return Object.keys(meta).length === 0 ? {} : { _meta: meta }
}

/** The opening exchange of a connection in `era`. */
export const opening = (era: Era): Step =>
  era === V
    ? {
        label: "open: tools/list",
        lines: [json({ method: "tools/list", jsonrpc: "2.0", id: "open", params: { _meta: MODERN_META } })],
        answers: 1
      }
    : {
        label: "open: initialize",
        lines: [
          json({
            method: "initialize",
            jsonrpc: "2.0",
            id: "open",
            params: { protocolVersion: era, capabilities: {}, clientInfo: { name: "parity", version: "1" } }
          }),
          json({ method: "notifications/initialized", jsonrpc: "2.0" })
        ],
        answers: 1
      }

const one = (label: string, line: string, answers = 1, settleMs?: number): Step => ({
  label,
  lines: [line],
  answers,
  ...(settleMs === undefined ? {} : { settleMs })
})

/** A blocking read of an empty stream: a call that stays in flight for `ms`. */
const slow = (era: Era, id: unknown, ms: number) =>
  callLine(id, {
    name: "xread",
    arguments: { streams: [{ key: "parity:empty", id: "$" }], blockMs: ms },
    ...metaOf(era)
  })

export const corpus = (era: Era): ReadonlyArray<Step> => {
  const m = metaOf(era)
  const get = (key: string) => ({ name: "get", arguments: { key }, ...m })
  const env = (replace: Record<string, unknown>) => ({ _meta: { ...MODERN_META, ...replace } })
  const deep = (depth: number) => {
    let value: unknown = 1
    for (let i = 0; i < depth; i++) value = { v: value }
    return value
  }
  return [
    opening(era),
    one("set", callLine(10, { name: "set", arguments: { key: "k1", value: "v1" }, ...m })),
    one(
      "set again (same envelope)",
      callLine(11, { name: "set", arguments: { key: "k2", value: 'é\u2028😀"\\' }, ...m })
    ),
    one("get found", callLine(12, get("k1"))),
    one("get unicode", callLine(13, get("k2"))),
    one("get missing", callLine(14, get("nope"))),
    one("get a range", callLine(15, { name: "get", arguments: { key: "k1", offset: 1, length: 1 }, ...m })),
    one("string id", callLine("abc", get("k1"))),
    one("empty string id", callLine("", get("k1"))),
    one("id 0", callLine(0, get("k1"))),
    one("negative id", callLine(-7, get("k1"))),
    one("float id", callLine(1.5, get("k1"))),
    one("id beyond 2^53", callLine(2 ** 60, get("k1"))),
    one("null id", callLine(null, get("k1"))),
    one("boolean id", callLine(true, get("k1"))),
    one("object id", callLine({}, get("k1"))),
    one("no arguments", callLine(20, { name: "get", ...m })),
    one("empty arguments", callLine(21, { name: "get", arguments: {}, ...m })),
    one("arguments array", callLine(22, { name: "get", arguments: [1], ...m })),
    one("arguments string", callLine(23, { name: "get", arguments: "x", ...m })),
    one("arguments null", callLine(24, { name: "get", arguments: null, ...m })),
    one("argument of the wrong type", callLine(25, { name: "get", arguments: { key: 5 }, ...m })),
    one("extra argument", callLine(26, { name: "get", arguments: { key: "k1", extra: true }, ...m })),
    one(
      "arguments nested too deep",
      callLine(27, { name: "set", arguments: { key: "d", value: "x", deep: deep(150) }, ...m })
    ),
    one("no name", callLine(28, { arguments: {}, ...m })),
    one("name a number", callLine(29, { name: 5, arguments: {}, ...m })),
    one("unknown tool", callLine(30, { name: "nope", arguments: {}, ...m })),
    one("__proto__ tool", callLine(31, { name: "__proto__", arguments: {}, ...m })),
    one("constructor tool", callLine(32, { name: "constructor", arguments: {}, ...m })),
    one("toString tool", callLine(33, { name: "toString", arguments: {}, ...m })),
    one(
      "a tool of a toolset that is off",
      callLine(34, { name: "task_create", arguments: { queue: "q", payload: {} }, ...m })
    ),
    one("progressToken string", callLine(40, { ...get("k1"), ...metaOf(era, { progressToken: "p1" }) })),
    one("progressToken integer", callLine(41, { ...get("k1"), ...metaOf(era, { progressToken: 7 }) })),
    one("progressToken float", callLine(42, { ...get("k1"), ...metaOf(era, { progressToken: 7.5 }) })),
    one("progressToken object", callLine(43, { ...get("k1"), ...metaOf(era, { progressToken: {} }) })),
    one("traceparent", callLine(44, { ...get("k1"), ...metaOf(era, { traceparent: TRACEPARENT }) })),
    one("traceparent malformed", callLine(45, { ...get("k1"), ...metaOf(era, { traceparent: "00-zz" }) })),
    one("traceparent a number", callLine(46, { ...get("k1"), ...metaOf(era, { traceparent: 1 }) })),
    one(
      "tracestate and baggage",
      callLine(47, { ...get("k1"), ...metaOf(era, { tracestate: "a=1", baggage: "b=2" }) })
    ),
    one("vendor _meta key", callLine(48, { ...get("k1"), ...metaOf(era, { "com.example/x": 1 }) })),
    one(
      "related-task _meta key",
      callLine(49, { ...get("k1"), ...metaOf(era, { "io.modelcontextprotocol/related-task": { taskId: "t" } }) })
    ),
    one("task param", callLine(50, { ...get("k1"), task: { ttl: 1000 } })),
    one("requestState param", callLine(51, { ...get("k1"), requestState: "abc" })),
    one("inputResponses param", callLine(52, { ...get("k1"), inputResponses: {} })),
    one("unknown param", callLine(53, { ...get("k1"), foo: 1 })),
    one("no _meta", callLine(54, { name: "get", arguments: { key: "k1" } })),
    one("_meta not an object", callLine(55, { name: "get", arguments: { key: "k1" }, _meta: 5 })),
    one("_meta null", callLine(56, { name: "get", arguments: { key: "k1" }, _meta: null })),
    one(
      "envelope without capabilities",
      callLine(60, { name: "get", arguments: { key: "k1" }, _meta: { "io.modelcontextprotocol/protocolVersion": V } })
    ),
    one(
      "envelope without version",
      callLine(61, {
        name: "get",
        arguments: { key: "k1" },
        _meta: { "io.modelcontextprotocol/clientCapabilities": {} }
      })
    ),
    one(
      "envelope version 2025-11-25",
      callLine(62, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/protocolVersion": "2025-11-25" })
      })
    ),
    one(
      "envelope version 2099-01-01",
      callLine(63, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/protocolVersion": "2099-01-01" })
      })
    ),
    one(
      "envelope capabilities invalid",
      callLine(64, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/clientCapabilities": { sampling: 5 } })
      })
    ),
    one(
      "envelope other capabilities",
      callLine(65, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } })
      })
    ),
    one(
      "the same other capabilities again",
      callLine(66, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } })
      })
    ),
    one(
      "envelope logLevel debug",
      callLine(67, { name: "get", arguments: { key: "k1" }, ...env({ "io.modelcontextprotocol/logLevel": "debug" }) })
    ),
    one(
      "envelope logLevel bogus",
      callLine(68, { name: "get", arguments: { key: "k1" }, ...env({ "io.modelcontextprotocol/logLevel": "loud" }) })
    ),
    one(
      "envelope logLevel null",
      callLine(69, { name: "get", arguments: { key: "k1" }, ...env({ "io.modelcontextprotocol/logLevel": null }) })
    ),
    one(
      "envelope other clientInfo",
      callLine(70, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/clientInfo": { name: "other", version: "2" } })
      })
    ),
    one(
      "the same other clientInfo again",
      callLine(71, {
        name: "get",
        arguments: { key: "k1" },
        ...env({ "io.modelcontextprotocol/clientInfo": { name: "other", version: "2" } })
      })
    ),
    one("extra top-level member", json({ method: "tools/call", jsonrpc: "2.0", id: 80, params: get("k1"), extra: 1 })),
    one("wrong jsonrpc", json({ method: "tools/call", jsonrpc: "1.0", id: 81, params: get("k1") })),
    one("params an array", json({ method: "tools/call", jsonrpc: "2.0", id: 82, params: [1] })),
    one("no params", json({ method: "tools/call", jsonrpc: "2.0", id: 83 })),
    one("malformed JSON", "{not json"),
    one("a batch array", json([{ method: "tools/call", jsonrpc: "2.0", id: 84, params: get("k1") }])),
    one("blank line", "   ", 0, 20),
    one(
      "wrong type of key",
      callLine(90, { name: "hset", arguments: { key: "h", fields: JSON.parse('{"f":"v","__proto__":"p"}') }, ...m })
    ),
    one("get of a hash: WrongType", callLine(91, get("h"))),
    one("incr of text: NotInteger", callLine(92, { name: "incr", arguments: { key: "k1" }, ...m })),
    one("incr", callLine(93, { name: "incr", arguments: { key: "n", by: 5 }, ...m })),
    one(
      "a value over the size limit: TooLarge",
      callLine(94, { name: "set", arguments: { key: "big", value: "x".repeat(3000) }, ...m })
    ),
    one("a key ill-formed", callLine(95, { name: "set", arguments: { key: "\ud800", value: "x" }, ...m })),
    one("a reserved key", callLine(96, { name: "get", arguments: { key: "task:x" }, ...m })),
    one(
      "mset, mget, exists, del",
      callLine(97, {
        name: "mset",
        arguments: {
          entries: [
            { key: "a", value: "1" },
            { key: "b", value: "2" }
          ]
        },
        ...m
      })
    ),
    one("mget", callLine(98, { name: "mget", arguments: { keys: ["a", "b", "missing"] }, ...m })),
    one("exists", callLine(99, { name: "exists", arguments: { keys: ["a", "missing"] }, ...m })),
    one("del", callLine(100, { name: "del", arguments: { keys: ["a"] }, ...m })),
    one("hgetall", callLine(101, { name: "hgetall", arguments: { key: "h" }, ...m })),
    {
      label: "calls in flight at once",
      lines: [callLine(110, get("k1")), callLine(111, get("k2")), callLine(112, get("n")), callLine(113, get("nope"))],
      answers: 4
    },
    {
      label: "cancel in flight",
      lines: [slow(era, 120, 400), cancelLine(era, { requestId: 120, reason: "user" })],
      answers: 0,
      settleMs: 700
    },
    {
      label: "cancel with a reason that is not text",
      lines: [slow(era, 121, 200), cancelLine(era, { requestId: 121, reason: 5 })],
      answers: 1
    },
    {
      label: "cancel without a reason",
      lines: [slow(era, 122, 400), cancelLine(era, { requestId: 122 })],
      answers: 0,
      settleMs: 700
    },
    one("cancel of an unknown id", cancelLine(era, { requestId: 999 }), 0, 50),
    {
      label: "cancel with a subscription id that is not an id",
      lines: [
        slow(era, 123, 200),
        json({
          method: "notifications/cancelled",
          jsonrpc: "2.0",
          params: {
            requestId: 123,
            _meta: { ...(era === V ? MODERN_META : {}), "io.modelcontextprotocol/subscriptionId": 1.5 }
          }
        })
      ],
      answers: era === V ? 1 : 0,
      settleMs: 400
    },
    { label: "an id reused while in flight", lines: [slow(era, 130, 300), callLine(130, get("k1"))], answers: 2 },
    {
      label: "an id reused while in flight, then cancelled (the newer one is)",
      lines: [slow(era, 131, 500), slow(era, 131, 300), cancelLine(era, { requestId: 131 })],
      answers: 1,
      settleMs: 500
    },
    { label: "an id reused after its answer", lines: [callLine(132, get("k1"))], answers: 1 },
    one("repeat of an answered id", callLine(132, get("k2"))),
    one(
      "ping",
      json({ method: "ping", jsonrpc: "2.0", id: 140, ...(era === V ? { params: { _meta: MODERN_META } } : {}) })
    ),
    one(
      "initialize late",
      json({
        method: "initialize",
        jsonrpc: "2.0",
        id: 141,
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "p", version: "1" } }
      })
    ),
    one("a response from the client", json({ jsonrpc: "2.0", id: 142, result: {} }), 0, 20),
    one("after all of it", callLine(150, get("k1")))
  ]
}
