/**
 * Issue 9 item 9 across a real pipe and a real Redis: `printf '<initialize>\n<tools/call set>\n' | node server`
 * performs the SET and writes its answer before the process exits 0. The fixture
 * server is the v2 SDK's `serveStdio` over `StdioWire`; its tool starts the SET
 * only after stdin has ended, so the call is in flight at EOF every time.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

const FIXTURE = fileURLToPath(new URL("../fixtures/wire-set-server.ts", import.meta.url))

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "printf", version: "0" } }
}
const setCall = (key: string, value: string) => ({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "set", arguments: { key, value } }
})

/** Pipes `input` into the fixture and closes its stdin at once, like `printf … | node server`. */
const pipeInto = (input: string, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, ...env }, stdio: "pipe" })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8")
    })
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString("utf8")
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })

describe("stdin closed right after a request", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis.dispose())

  it("the SET happens, its answer is written, and the process exits 0 (3 runs)", async () => {
    for (let run = 1; run <= 3; run++) {
      const key = `wire:eof:${run}`
      const { code, stdout, stderr } = await pipeInto(
        `${JSON.stringify(initialize)}\n${JSON.stringify(setCall(key, `value ${run}`))}\n`,
        { REDIS_URL: redis.url }
      )
      assert.strictEqual(code, 0, `run ${run} exit code; stderr:\n${stderr}`)
      const lines = stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l))
      assert.deepStrictEqual(
        lines.map((l) => l.id),
        [1, 2],
        `run ${run}: both answers on stdout`
      )
      assert.deepStrictEqual(lines[1].result.content, [{ type: "text", text: "OK" }])
      assert.strictEqual(await redis.client().get(key), `value ${run}`, `run ${run}: the SET reached Redis`)
    }
  })
})
