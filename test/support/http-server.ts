/**
 * The built server (dist/main.js) run as an HTTP service on a free loopback port (`--port 0`,
 * the port read from its `listening` log line), for tests that drive it with raw HTTP or an
 * MCP client over Streamable HTTP. Tracked in the registry, so a crashed test leaves nothing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { fileURLToPath } from "node:url"
import { trackChild } from "./registry.ts"

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

export interface HttpServer {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** `<base>/mcp` */
  readonly url: string
  /** Lines written to stderr so far. */
  readonly stderr: () => ReadonlyArray<string>
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resolves once a stderr line contains `text`. */
  readonly logged: (text: string, timeoutMs?: number) => Promise<void>
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface StartOptions {
  /** Options for node itself, before the script (e.g. a heap limit). */
  readonly nodeArgs?: ReadonlyArray<string>
  readonly env?: Record<string, string>
  readonly args?: ReadonlyArray<string>
  readonly timeoutMs?: number
}

/** Spawn the server; resolves once it listens, or rejects with its stderr when it exits first. */
export const startHttpServer = async (options: StartOptions = {}): Promise<HttpServer> => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`)
  const argv = [...(options.nodeArgs ?? []), MAIN, "--transport", "http", "--port", "0", ...(options.args ?? [])]
  const child = spawn(process.execPath, argv, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      REDIS_MCP_LOG_LEVEL: "info",
      // The e2e projects that run with the fast paths off (vitest.config.ts).
      ...(process.env.E2E_FASTPATH === "0" ? { REDIS_MCP_FASTPATH: "0" } : {}),
      ...options.env
    },
    stdio: ["ignore", "ignore", "pipe"]
  })
  trackChild(child)
  const lines: Array<string> = []
  const waiters = new Set<() => void>()
  let partial = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk
    const parts = partial.split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts.filter((l) => l !== ""))
    for (const w of [...waiters]) w()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  let gone = false
  void exited.then(() => {
    gone = true
    for (const w of [...waiters]) w()
  })
  const logged = (text: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.some((l) => l.includes(text))) {
          cleanup()
          resolve()
        } else if (gone) {
          cleanup()
          reject(new Error(`the server exited before logging ${JSON.stringify(text)}:\n${lines.join("\n")}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no ${JSON.stringify(text)} on stderr within ${timeoutMs} ms:\n${lines.join("\n")}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  await logged('"listening"', options.timeoutMs)
  const line = lines.find((l) => l.includes('"listening"'))!
  const port = Number(/"port":(\d+)/.exec(line)![1])
  const base = `http://127.0.0.1:${port}`
  return {
    child,
    pid: child.pid!,
    port,
    base,
    url: `${base}/mcp`,
    stderr: () => lines,
    exited,
    logged,
    stop: async (signal = "SIGTERM") => {
      if (!gone) child.kill(signal)
      return exited
    }
  }
}

/** The exit of the server started with these options, when it is expected to refuse to start. */
export const runToExit = (options: StartOptions = {}) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...(options.args ?? [])], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    trackChild(child)
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (c: string) => {
      stderr += c
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })

/** POST one JSON-RPC message to `/mcp` as a 2025-11-25 client would (stateless), with optional extra headers. */
export const postMcp = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...headers
    },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** The JSON-RPC message of an answer: plain JSON, or the last `data:` line of an event stream. */
export const rpcOf = async (response: Response): Promise<any> => {
  const text = await response.text()
  if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) return JSON.parse(text)
  const data = text
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .at(-1)
  return data === undefined ? undefined : JSON.parse(data.slice(5))
}

/** One request with node:http, for what fetch will not send (a foreign `Host`, a body without a length). */
export const rawRequest = (
  port: number,
  options: {
    readonly path: string
    readonly method?: string
    readonly headers?: Record<string, string>
    /** Written in chunks (chunked encoding unless a content-length header is given). */
    readonly chunks?: ReadonlyArray<string | Buffer>
  }
) =>
  new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: options.path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        const body: Array<Buffer> = []
        res.on("data", (c: Buffer) => body.push(c))
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(body).toString("utf8") })
        )
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    for (const chunk of options.chunks ?? []) req.write(chunk)
    req.end()
  })
