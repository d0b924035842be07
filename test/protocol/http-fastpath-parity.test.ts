/**
 * The HTTP fast path (src/mcp/HttpFastPath.ts) answers exactly as the SDK's
 * handler would: the corpus of http-parity-corpus.ts sent to the built server
 * with the fast path on and with REDIS_MCP_FASTPATH=0, and for every request the
 * status, Content-Type, WWW-Authenticate and body compared byte for byte; then
 * the audit lines (one per write, per denial, per refused request) and the
 * request, auth-failure and tool-call counters of /metrics. With tokens of two
 * roles, and on a read-only server without auth. Each check also asserts the fast
 * path took calls, so it cannot pass by never engaging.
 */
import { request } from "node:http"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir } from "../support/auth.ts"
import { requireRedis } from "../support/env.ts"
import { rawRequest, startHttpServer } from "../support/http-server.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import {
  fuzzCases,
  type HttpCase,
  legacyCases,
  modernCases,
  modernHeaders,
  oversizedCases
} from "./http-parity-corpus.ts"
import { MODERN_META } from "./raw.ts"

const MAX_BODY = 64 * 1024
const FUZZ_SEED = 20261205
const FUZZ_CASES = 120
const TOKENS = { admin: "admin-token-0123456789", reader: "reader-token-0123456789" }
/** The /metrics series that count what the requests did (durations and sizes vary between runs). */
const COUNTERS =
  /^(redis_mcp_http_requests_total|redis_mcp_auth_failures_total|redis_mcp_tool_calls_total|mcp_server_operation_duration_seconds_count)\b/

let redis: RedisHandle
let files: Awaited<ReturnType<typeof authDir>>
let authFile: string
beforeAll(async () => {
  requireRedis()
  redis = await startRedis()
  files = await authDir()
  authFile = await files.write("auth.json", {
    roles: {
      admin: { toolsets: ["all"] },
      reader: { toolsets: ["keys"], readOnly: true, keys: ["mine:*"] }
    },
    tokens: [
      { name: "admin", sha256: sha256Hex(TOKENS.admin), role: "admin" },
      { name: "reader", sha256: sha256Hex(TOKENS.reader), role: "reader" }
    ]
  })
})
afterAll(async () => {
  await redis?.dispose()
  await files?.dispose()
})

interface Answer {
  readonly label: string
  readonly status: number
  readonly type: unknown
  readonly challenge: unknown
  readonly body: string
}

const send = async (port: number, c: HttpCase): Promise<Answer> => {
  const bytes = c.body === undefined ? undefined : Buffer.from(c.body)
  const headers = { ...c.headers }
  if (bytes !== undefined && c.chunked !== true) headers["content-length"] = String(bytes.length)
  const chunks = bytes === undefined ? [] : c.chunked === true ? [bytes.subarray(0, 10), bytes.subarray(10)] : [bytes]
  const res = await rawRequest(port, { path: c.path ?? "/mcp", method: c.method ?? "POST", headers, chunks })
  return {
    label: c.label,
    status: res.status,
    type: res.headers["content-type"],
    challenge: res.headers["www-authenticate"],
    body: res.text
  }
}

/** The audit lines of a run, without what differs between runs (time, duration). */
const auditLines = (stderr: ReadonlyArray<string>): ReadonlyArray<string> =>
  stderr
    .filter(
      (l) => l.includes('"event":"call"') || l.includes('"event":"denied"') || l.includes('"event":"auth_failure"')
    )
    .map((l) => {
      const { time: _t, durationMs: _d, ...rest } = JSON.parse(l)
      return JSON.stringify(rest)
    })
    .sort()

const counters = (text: string): ReadonlyArray<string> =>
  text
    .split("\n")
    .filter((l) => COUNTERS.test(l))
    .sort()

/** The cases against one server; its answers, audit lines, counters, and the calls its fast path took. */
const run = async (env: Record<string, string>, args: ReadonlyArray<string>, cases: ReadonlyArray<HttpCase>) => {
  await redis.command("FLUSHALL")
  const server = await startHttpServer({ env: { REDIS_URL: redis.url, ...env }, args })
  try {
    const answers: Array<Answer> = []
    for (const c of cases) answers.push(await send(server.port, c))
    const metrics = await (await fetch(`${server.base}/metrics`)).text()
    await server.stop()
    const stderr = server.stderr()
    const closing = stderr.find((l) => l.includes('"mcp http server closed"')) ?? ""
    const taken = Number(/"fastPathCalls":(\d+)/.exec(closing)?.[1] ?? 0)
    return { answers, audit: auditLines(stderr), counters: counters(metrics), taken }
  } finally {
    await server.stop()
  }
}

const differences = (fast: ReadonlyArray<Answer>, sdk: ReadonlyArray<Answer>): ReadonlyArray<string> =>
  fast.flatMap((a, i) => {
    const b = sdk[i]!
    return JSON.stringify(a) === JSON.stringify(b)
      ? []
      : [`${a.label}\n  fast: ${JSON.stringify(a)}\n  sdk:  ${JSON.stringify(b)}`]
  })

const compare = async (env: Record<string, string>, args: ReadonlyArray<string>, cases: ReadonlyArray<HttpCase>) => {
  const fast = await run(env, args, cases)
  const sdk = await run({ ...env, REDIS_MCP_FASTPATH: "0" }, args, cases)
  assert.strictEqual(sdk.taken, 0, "REDIS_MCP_FASTPATH=0 turns the fast path off")
  assert.deepStrictEqual(differences(fast.answers, sdk.answers), [])
  assert.deepStrictEqual(fast.audit, sdk.audit)
  assert.deepStrictEqual(fast.counters, sdk.counters)
  return fast
}

describe("the HTTP fast path answers as the SDK's handler does", () => {
  it("with tokens of two roles and the audit on: both eras, every shape, header, credential and limit", async () => {
    const cases = [
      ...modernCases(TOKENS.admin),
      ...legacyCases(TOKENS.admin),
      ...modernCases(TOKENS.reader).map((c) => ({ ...c, label: `reader: ${c.label}` })),
      ...legacyCases(TOKENS.reader).map((c) => ({ ...c, label: `reader: ${c.label}` })),
      ...modernCases(undefined)
        .slice(0, 2)
        .map((c) => ({ ...c, label: `no token: ${c.label}` })),
      ...modernCases("wrong-token")
        .slice(0, 2)
        .map((c) => ({ ...c, label: `wrong token: ${c.label}` })),
      ...oversizedCases(TOKENS.admin, MAX_BODY)
    ]
    const fast = await compare(
      {
        REDIS_MCP_AUDIT: "stderr",
        REDIS_MCP_HTTP_MAX_BODY_BYTES: String(MAX_BODY),
        REDIS_MCP_TOOLSETS: "default,hash"
      },
      ["--auth-file", authFile],
      cases
    )
    assert.isAtLeast(fast.taken, 30, "the fast path took the plain calls")
    assert.isTrue(fast.audit.length > 10, "writes, denials and refused requests were audited")
    for (const series of ["redis_mcp_tool_calls_total", "mcp_server_operation_duration_seconds_count"])
      assert.isTrue(
        fast.counters.some((l) => l.startsWith(series)),
        `${series} counted the calls`
      )
  })

  it(`on ${FUZZ_CASES} seeded random tools/call shapes per era (seed ${FUZZ_SEED})`, async () => {
    const cases = [
      ...fuzzCases("2026-07-28", FUZZ_SEED, FUZZ_CASES, TOKENS.admin),
      ...fuzzCases("2025-11-25", FUZZ_SEED, FUZZ_CASES, TOKENS.admin)
    ]
    const fast = await compare({ REDIS_MCP_AUDIT: "stderr" }, ["--auth-file", authFile], cases)
    assert.isAtLeast(fast.taken, 30)
  })

  it("on a read-only server without auth: writes are unknown tools, reads are served", async () => {
    const cases = [...modernCases(undefined), ...legacyCases(undefined)]
    const fast = await compare({ REDIS_MCP_READ_ONLY: "true", REDIS_MCP_AUDIT: "stderr" }, [], cases)
    assert.isAtLeast(fast.taken, 10)
  })
})

describe("a client that goes away cancels its call", () => {
  it.each([
    ["on the fast path", "1"],
    ["through the SDK", "0"]
  ])("%s: a blocking read ends when the connection closes", async (_label, fastPath) => {
    const server = await startHttpServer({
      env: { REDIS_URL: redis.url, REDIS_MCP_TOOLSETS: "default,stream", REDIS_MCP_FASTPATH: fastPath }
    })
    try {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "xread",
          arguments: { streams: [{ key: "mine:s", id: "$" }], blockMs: 20_000 },
          _meta: MODERN_META
        }
      })
      const req = request({
        host: "127.0.0.1",
        port: server.port,
        path: "/mcp",
        method: "POST",
        headers: { ...modernHeaders("xread"), "content-length": String(Buffer.byteLength(body)) }
      })
      req.on("error", () => undefined)
      req.end(body)
      await new Promise((r) => setTimeout(r, 500))
      req.destroy()
      await server.logged('"tool call cancelled"', 10_000)
      await server.stop()
      const closing = server.stderr().find((l) => l.includes('"mcp http server closed"')) ?? ""
      assert.strictEqual(/"fastPathCalls":1\b/.test(closing), fastPath === "1")
    } finally {
      await server.stop()
    }
  })
})
