/**
 * The built server (dist/main.js) spawned by hand: JSON-RPC lines written to
 * its stdin, lines read from its stdout, its stderr and exit. For what an SDK
 * client would never send, and for process behaviour (flags, exit codes).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

/** The server spawned by hand: raw stdin/stdout lines, stderr text, exit. */
export interface RawServer {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdoutLines: Array<string>
  readonly stderr: () => string
  readonly send: (line: string) => void
  /** Resolves with the first JSON-RPC response carrying this id. */
  readonly response: (id: number | string, timeoutMs?: number) => Promise<any>
  /** Resolves with the `n`th (1-based) message on stdout that satisfies `test`. */
  readonly message: (test: (message: any) => boolean, n?: number, timeoutMs?: number) => Promise<any>
  /** Resolves once stderr contains `text`. */
  readonly logged: (text: string, timeoutMs?: number) => Promise<void>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** The server started by `command` (default: this Node on dist/main.js) with `args`, in a minimal environment plus `env`. */
export const spawnRaw = (
  args: ReadonlyArray<string> = [],
  env: Record<string, string> = {},
  command: readonly [string, ...Array<string>] = [process.execPath, MAIN]
): RawServer => {
  const child = spawn(command[0], [...command.slice(1), ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: "pipe"
  })
  const stdoutLines: Array<string> = []
  let partial = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk
    const lines = partial.split("\n")
    partial = lines.pop() ?? ""
    stdoutLines.push(...lines.filter((l) => l !== ""))
    for (const w of waiters.splice(0)) w()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  const message = (test: (message: any) => boolean, n = 1, timeoutMs = 10_000) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching message within ${timeoutMs} ms; stdout: ${stdoutLines.join("\n")}; stderr: ${stderr}`
            )
          ),
        timeoutMs
      )
      const check = () => {
        const found = stdoutLines.map((line) => JSON.parse(line)).filter(test)
        if (found.length >= n) {
          clearTimeout(timer)
          return resolve(found[n - 1])
        }
        waiters.push(check)
      }
      check()
    })
  const response = (id: number | string, timeoutMs = 10_000) =>
    message((m) => m.id === id && m.method === undefined, 1, timeoutMs)
  const logged = async (text: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs
    while (!stderr.includes(text)) {
      if (Date.now() > deadline) throw new Error(`stderr never contained ${text}: ${stderr}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    send: (line) => child.stdin.write(`${line}\n`),
    response,
    message,
    logged,
    exited
  }
}

export const initialize = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
  })
export const request = (id: number, method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params })

/** Initialize, list the tools, then kill the server: how many tools it listed. */
export const listToolsOnce = async (raw: RawServer): Promise<number> => {
  try {
    raw.send(initialize(1))
    await raw.response(1, 15_000)
    raw.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))
    raw.send(request(2, "tools/list"))
    return (await raw.response(2, 15_000)).result.tools.length
  } finally {
    raw.child.kill("SIGKILL")
  }
}

/** Fails the test when `promise` does not settle in time (a hang, not a slow answer). */
export const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))
  ])

/** The per-request `_meta` envelope a 2026-07-28 client sends (the v2 Client adds it itself). */
export const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" }
}

/** A 2026-07-28 request: params carry the envelope (plus any `_meta` of the caller's). */
export const modern = (id: number, method: string, params: Record<string, unknown> = {}, meta: object = {}) =>
  request(id, method, { ...params, _meta: { ...MODERN_META, ...meta } })
