/**
 * The stdio fast path (src/mcp/StdioFastPath.ts) answers exactly as the SDK
 * would: the same corpus and a seeded fuzz of `tools/call` shapes, both protocol
 * eras, sent to the built server with the fast path on and with
 * REDIS_MCP_FASTPATH=0, every stdout line compared byte for byte. Also with a
 * role (refusals, tools outside it), the audit on, and read-only mode. Each
 * check also asserts the fast path took calls, so it cannot pass by never
 * engaging.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { differences, type Era, fastPathCalls, type Step, transcript } from "./parity.ts"
import { corpus, opening } from "./parity-corpus.ts"
import { fuzzSteps } from "./parity-fuzz.ts"
import { MODERN_META } from "./raw.ts"

const ERAS: ReadonlyArray<Era> = ["2025-11-25", "2026-07-28"]
const FUZZ_SEED = 20261205
const FUZZ_CASES = 120

let redis: RedisHandle
let dir: string
beforeAll(async () => {
  requireRedis()
  redis = await startRedis()
  dir = mkdtempSync(join(tmpdir(), "parity-"))
})
afterAll(async () => {
  await redis?.dispose()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

const baseEnv = () => ({
  REDIS_URL: redis.url,
  REDIS_MCP_LOG_LEVEL: "info",
  REDIS_MCP_TOOLSETS: "default,hash,stream",
  REDIS_MCP_MAX_VALUE_BYTES: "2048"
})

/** The steps against both servers, each on an empty Redis; the differences, and how many calls the fast path took. */
const compare = async (
  era: Era,
  steps: ReadonlyArray<Step>,
  env: Record<string, string> = {},
  args: Array<string> = []
) => {
  await redis.command("FLUSHALL")
  const fast = await transcript(era, { ...baseEnv(), ...env }, steps, args)
  await redis.command("FLUSHALL")
  const sdk = await transcript(era, { ...baseEnv(), ...env, REDIS_MCP_FASTPATH: "0" }, steps, args)
  assert.strictEqual(fastPathCalls(sdk.stderr), 0, "REDIS_MCP_FASTPATH=0 turns the fast path off")
  return { diffs: differences(fast, sdk), taken: fastPathCalls(fast.stderr) }
}

describe.each(ERAS)("the fast path answers as the SDK does (%s)", (era) => {
  it("on the corpus: every success and failure shape, odd ids, params, _meta and envelopes, cancellation, id reuse", async () => {
    const { diffs, taken } = await compare(era, corpus(era))
    assert.deepStrictEqual(diffs, [])
    assert.isAtLeast(taken, 30, "the fast path took the plain calls")
  })

  it("with a role (refusals, tools outside it) and the audit on", async () => {
    const authFile = join(dir, `roles-${era}.json`)
    writeFileSync(authFile, JSON.stringify({ roles: { local: { toolsets: ["keys"], keys: ["mine:*"] } } }))
    const m = era === "2026-07-28" ? { _meta: MODERN_META } : {}
    const call = (id: number, name: string, args: unknown) =>
      JSON.stringify({ method: "tools/call", jsonrpc: "2.0", id, params: { name, arguments: args, ...m } })
    const steps: Array<Step> = [
      opening(era),
      { label: "in the role", lines: [call(1, "set", { key: "mine:a", value: "1" })], answers: 1 },
      { label: "in the role again", lines: [call(2, "get", { key: "mine:a" })], answers: 1 },
      { label: "a key outside the role", lines: [call(3, "set", { key: "theirs", value: "1" })], answers: 1 },
      { label: "a read outside the role", lines: [call(4, "get", { key: "theirs" })], answers: 1 },
      { label: "keys outside the role", lines: [call(5, "exists", { keys: ["mine:a", "theirs"] })], answers: 1 },
      { label: "a tool outside the role", lines: [call(6, "hset", { key: "mine:h", fields: { f: "v" } })], answers: 1 },
      { label: "a task tool", lines: [call(7, "task_create", { queue: "q", payload: {} })], answers: 1 },
      { label: "bad arguments", lines: [call(8, "get", { key: 1 })], answers: 1 }
    ]
    const { diffs, taken } = await compare(era, steps, { REDIS_MCP_ROLE: "local", REDIS_MCP_AUDIT: "stderr" }, [
      "--auth-file",
      authFile
    ])
    assert.deepStrictEqual(diffs, [])
    assert.isAtLeast(taken, 4)
  })

  it("read-only: writes are unknown tools, reads are served", async () => {
    const m = era === "2026-07-28" ? { _meta: MODERN_META } : {}
    const call = (id: number, name: string, args: unknown) =>
      JSON.stringify({ method: "tools/call", jsonrpc: "2.0", id, params: { name, arguments: args, ...m } })
    const steps: Array<Step> = [
      opening(era),
      { label: "a write", lines: [call(1, "set", { key: "a", value: "1" })], answers: 1 },
      { label: "a read", lines: [call(2, "get", { key: "a" })], answers: 1 },
      { label: "a read again", lines: [call(3, "exists", { keys: ["a"] })], answers: 1 }
    ]
    const { diffs, taken } = await compare(era, steps, { REDIS_MCP_READ_ONLY: "true" })
    assert.deepStrictEqual(diffs, [])
    assert.isAtLeast(taken, 1)
  })

  it(`on ${FUZZ_CASES} seeded random tools/call shapes (seed ${FUZZ_SEED})`, async () => {
    const steps = [opening(era), ...fuzzSteps(era, FUZZ_SEED, FUZZ_CASES)]
    const { diffs, taken } = await compare(era, steps)
    assert.deepStrictEqual(diffs, [])
    assert.isAtLeast(taken, 10)
  })
})
