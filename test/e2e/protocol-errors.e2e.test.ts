/**
 * Issue 9 items 7–9 on the built server (dist/main.js) with a real Redis, raw
 * lines in and raw lines out: bad lines get their JSON-RPC errors and the
 * session goes on, oversized lines are skipped with memory bounded, and stdin
 * closing right after a call still performs it and writes its answer, exit 0.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { MAIN } from "./client.ts"

const MiB = 1024 * 1024
const WAIT_MS = 15_000

interface Raw {
  readonly child: ChildProcessWithoutNullStreams
  readonly stderr: () => string
  send(line: string): void
  /** The next line on stdout, parsed. */
  next(): Promise<any>
  /** Lines up to and including the answer with this id. */
  until(id: string | number | null): Promise<Array<any>>
  readonly exited: Promise<number | null>
  /** Resident set size of the server process, from /proc. */
  rssBytes(): number
}

const spawnRaw = (env: Record<string, string>): Raw => {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: "pipe"
  })
  const lines: Array<string> = []
  let partial = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts.filter((l) => l !== ""))
    for (const w of waiters.splice(0)) w()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const next = () =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line on stdout within ${WAIT_MS} ms; stderr:\n${stderr}`)),
        WAIT_MS
      )
      const check = () => {
        if (lines.length === 0) return waiters.push(check)
        clearTimeout(timer)
        resolve(JSON.parse(lines.shift()!))
      }
      check()
    })
  return {
    child,
    stderr: () => stderr,
    send: (line) => child.stdin.write(`${line}\n`),
    next,
    until: async (id) => {
      const seen: Array<any> = []
      for (;;) {
        const line = await next()
        seen.push(line)
        if (line.id === id && ("result" in line || "error" in line)) return seen
      }
    },
    exited,
    rssBytes: () => {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))
      return Number(kb?.[1] ?? Number.NaN) * 1024
    }
  }
}

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: "init",
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
})
const initialized = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })
const toolCall = (id: string | number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } })

/**
 * Streams one line of `bytes` bytes to the server's stdin in 64 KiB chunks, honouring
 * backpressure; returns the server's highest RSS seen (sampled every 4 MiB).
 */
const streamLine = async (raw: Raw, bytes: number): Promise<number> => {
  const chunk = Buffer.alloc(64 * 1024, "z")
  let peak = raw.rssBytes()
  let i = 0
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
    if (!raw.child.stdin.write(part)) await new Promise((resolve) => raw.child.stdin.once("drain", resolve))
    if (++i % 64 === 0) peak = Math.max(peak, raw.rssBytes())
  }
  raw.child.stdin.write("\n")
  return peak
}

describe("protocol errors on the built server", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  let redis: RedisHandle
  let raw: Raw
  beforeAll(async () => {
    redis = await startRedis()
    raw = spawnRaw({ REDIS_URL: redis.url })
    raw.send(initialize)
    const [init] = await raw.until("init")
    assert.isString(init.result?.protocolVersion, JSON.stringify(init))
    raw.send(initialized)
  })
  afterAll(async () => {
    raw?.child.kill("SIGKILL")
    await redis?.dispose()
  })

  /** Sends `line`, then a `ping` tool call; returns what came before the ping's answer. */
  const answersBefore = async (line: string, id: string) => {
    raw.send(line)
    raw.send(toolCall(id, "ping", {}))
    const seen = await raw.until(id)
    assert.isUndefined(seen.at(-1).error, `ping after ${line.slice(0, 60)}`)
    assert.isFalse(Boolean(seen.at(-1).result.isError), JSON.stringify(seen.at(-1)))
    return seen.slice(0, -1)
  }

  it("item 8: each malformed line gets its JSON-RPC error and the session goes on", async () => {
    const cases: Array<[string, number, string | number | null]> = [
      ['{"jsonrpc":"2.0","id":1,"method":', -32700, null],
      ["[1,2]", -32600, null],
      ['[{"jsonrpc":"2.0","id":2,"method":"ping"}]', -32600, null],
      ["42", -32600, null],
      ['{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":{},"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":[3],"method":"ping"}', -32600, null],
      ['{"jsonrpc":"2.0","id":4,"method":"tools/list","params":"x"}', -32600, 4],
      ['{"id":5,"method":"tools/list"}', -32600, 5],
      ['{"jsonrpc":"2.0","id":6,"method":7}', -32600, 6]
    ]
    for (const [i, [line, code, id]] of cases.entries()) {
      const seen = await answersBefore(line, `ping ${i}`)
      assert.strictEqual(seen.length, 1, `one answer to ${line}`)
      assert.strictEqual(seen[0].error?.code, code, `${line} → ${JSON.stringify(seen[0])}`)
      assert.strictEqual(seen[0].id, id, `id of the answer to ${line}`)
    }
    assert.deepStrictEqual(
      await answersBefore('{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}', "after notification"),
      [],
      "a malformed notification is not answered"
    )
    assert.include(raw.stderr(), "stdin line rejected")
  })

  it("params a spec method's schema refuses get -32602 Invalid params in one line naming the param, not -32603", async () => {
    const cases: Array<[string, string]> = [
      ['{"jsonrpc":"2.0","id":"lvl","method":"logging/setLevel","params":{"level":"loud"}}', "params.level"],
      ['{"jsonrpc":"2.0","id":"read","method":"resources/read","params":{}}', "params.uri"],
      ['{"jsonrpc":"2.0","id":"prompt","method":"prompts/get","params":{}}', "params.name"],
      ['{"jsonrpc":"2.0","id":"sub","method":"resources/subscribe","params":{"uri":5}}', "params.uri"]
    ]
    for (const [i, [line, param]] of cases.entries()) {
      const seen = await answersBefore(line, `params ${i}`)
      assert.strictEqual(seen.length, 1, `one answer to ${line}`)
      const error = seen[0].error
      assert.strictEqual(error?.code, -32602, `${line} → ${JSON.stringify(seen[0])}`)
      assert.match(error.message, new RegExp(`^Invalid params for [A-Za-z/]+: ${param.replace(".", "\\.")}: `))
      assert.notInclude(error.message, "\n")
    }
  })

  it("item 7: 10 MiB + 100 bytes, 50 MiB, 400 MiB and several oversized lines in a row; memory stays bounded", async () => {
    const before = raw.rssBytes()
    let peak = before
    for (const bytes of [10 * MiB + 100, 50 * MiB, 9 * MiB, 9 * MiB, 400 * MiB]) {
      peak = Math.max(peak, await streamLine(raw, bytes))
      const [reply] = await raw.until(null)
      assert.strictEqual(reply.error?.code, -32600)
      assert.include(reply.error.message, `${bytes} bytes`)
    }
    // The wire holds at most 8 MiB of a line; the rest is read chunks awaiting GC. Holding the
    // 400 MiB line, as a buffer without a bound would, could not stay under this.
    const grown = peak - before
    assert.isBelow(grown, 300 * MiB, `peak RSS grew by ${Math.round(grown / MiB)} MiB while 478 MiB streamed in`)
    raw.send(toolCall("set after", "set", { key: "wire:after-oversize", value: "still here" }))
    const seen = await raw.until("set after")
    assert.isUndefined(seen.at(-1).error, JSON.stringify(seen.at(-1)))
    assert.isFalse(Boolean(seen.at(-1).result.isError), JSON.stringify(seen.at(-1)))
    assert.strictEqual(await redis.client().get("wire:after-oversize"), "still here")
  })

  it("item 9: stdin closed right after a call: the SET happens, its answer is written, exit 0 (3 runs)", async () => {
    for (let run = 1; run <= 3; run++) {
      const server = spawnRaw({ REDIS_URL: redis.url })
      const key = `wire:eof:${run}`
      server.child.stdin.end(`${initialize}\n${initialized}\n${toolCall("set", "set", { key, value: `run ${run}` })}\n`)
      const seen = await server.until("set")
      assert.isUndefined(seen.at(-1).error, JSON.stringify(seen.at(-1)))
      assert.isFalse(Boolean(seen.at(-1).result.isError), JSON.stringify(seen.at(-1)))
      assert.strictEqual(await server.exited, 0, `exit code; stderr:\n${server.stderr()}`)
      assert.strictEqual(await redis.client().get(key), `run ${run}`)
    }
  })
})
