/**
 * The stdio wire driven in-process: PassThrough streams for stdin/stdout,
 * `serveStdio` from the v2 SDK and a small real v2 `Server` with an instant
 * tool (`echo`) and one the test releases by hand (`slow`).
 *
 * To check that a test fails on the SDK's own transport, swap `makeTransport`
 * for `(input, output) => new StdioServerTransport(input, output)`.
 */
import { PassThrough } from "node:stream"
import { Server, type Transport } from "@modelcontextprotocol/server"
import { type StdioServerHandle, serveStdio } from "@modelcontextprotocol/server/stdio"
import { StdioWire, type StdioWireOptions, type WireLog } from "../../../src/mcp/StdioWire.ts"

export interface Logged {
  readonly level: "Debug" | "Info" | "Warn"
  readonly message: string
  readonly fields: Record<string, unknown>
}

export const makeTransport = (
  input: PassThrough,
  output: PassThrough,
  options: Omit<StdioWireOptions, "input" | "output">
): Transport => new StdioWire({ input, output, ...options })

/** A promise the test settles by hand. */
export interface Deferred<A> {
  readonly promise: Promise<A>
  readonly resolve: (a: A) => void
}
export const deferred = <A = void>(): Deferred<A> => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** What the `slow` tool exposes to the test: when it started, how to finish it, whether it was aborted. */
export interface SlowCall {
  readonly started: Deferred<void>
  readonly release: Deferred<string>
  aborted: boolean
}

const LINE_WAIT_MS = 5000

export interface Harness {
  readonly input: PassThrough
  readonly output: PassThrough
  readonly transport: Transport
  readonly handle: StdioServerHandle
  readonly logs: Array<Logged>
  readonly slow: SlowCall
  /** Resolves when the transport closed (serveStdio saw `onclose`). */
  readonly closed: Promise<void>
  isClosed(): boolean
  /** Writes `text` followed by a newline. */
  send(text: string): void
  sendJson(message: unknown): void
  /** The next JSON line written to stdout (fails after a bound if none comes). */
  next(): Promise<any>
  /** Every line up to and including the response with this id. */
  until(id: string | number): Promise<Array<any>>
  /** `initialize` + `notifications/initialized` on the 2025 era. */
  open(): Promise<void>
  /** A `ping` with this id; resolves with every line written up to its answer. */
  ping(id: string | number): Promise<Array<any>>
}

const factory = (slow: SlowCall) => () => {
  const server = new Server({ name: "wire-test", version: "0.0.0" }, { capabilities: { tools: {} } })
  server.setRequestHandler("tools/list", async () => ({
    tools: ["echo", "slow"].map((name) => ({ name, inputSchema: { type: "object" as const } }))
  }))
  server.setRequestHandler("tools/call", async (req, ctx) => {
    if (req.params.name === "slow") {
      ctx.mcpReq.signal.addEventListener("abort", () => {
        slow.aborted = true
      })
      slow.started.resolve()
      const text = await slow.release.promise
      return { content: [{ type: "text" as const, text }] }
    }
    return { content: [{ type: "text" as const, text: JSON.stringify(req.params.arguments ?? {}) }] }
  })
  return server
}

export const start = (options: Omit<StdioWireOptions, "input" | "output" | "log"> = {}): Harness => {
  const input = new PassThrough()
  const output = new PassThrough()
  const logs: Array<Logged> = []
  const log: WireLog = (level, message, fields) => {
    logs.push({ level, message, fields })
  }
  const transport = makeTransport(input, output, { ...options, log })
  const slow: SlowCall = { started: deferred(), release: deferred<string>(), aborted: false }
  const handle = serveStdio(factory(slow), { transport })
  let isClosed = false
  const closedSignal = deferred()
  const sdkOnClose = transport.onclose
  transport.onclose = () => {
    isClosed = true
    sdkOnClose?.()
    closedSignal.resolve()
  }

  const lines: Array<string> = []
  const waiters: Array<() => void> = []
  let rest = ""
  output.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString("utf8")).split("\n")
    rest = parts.pop()!
    lines.push(...parts)
    for (const w of waiters.splice(0)) w()
  })

  const next = async (): Promise<any> => {
    const deadline = Date.now() + LINE_WAIT_MS
    while (lines.length === 0) {
      const arrived = deferred()
      waiters.push(arrived.resolve)
      const timer = setTimeout(arrived.resolve, Math.max(0, deadline - Date.now()))
      await arrived.promise
      clearTimeout(timer)
      if (lines.length === 0 && Date.now() >= deadline) throw new Error(`no line on stdout within ${LINE_WAIT_MS} ms`)
    }
    return JSON.parse(lines.shift()!)
  }

  const until = async (id: string | number): Promise<Array<any>> => {
    const seen: Array<any> = []
    for (;;) {
      const line = await next()
      seen.push(line)
      if (line.id === id && ("result" in line || "error" in line)) return seen
    }
  }

  const send = (text: string) => {
    input.write(`${text}\n`)
  }
  const sendJson = (message: unknown) => send(JSON.stringify(message))

  return {
    input,
    output,
    transport,
    handle,
    logs,
    slow,
    closed: closedSignal.promise,
    isClosed: () => isClosed,
    send,
    sendJson,
    next,
    until,
    open: async () => {
      sendJson({
        jsonrpc: "2.0",
        id: "init",
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "0" } }
      })
      const [reply] = await until("init")
      if (reply.result?.protocolVersion === undefined) throw new Error(`initialize failed: ${JSON.stringify(reply)}`)
      sendJson({ jsonrpc: "2.0", method: "notifications/initialized" })
    },
    ping: (id) => {
      sendJson({ jsonrpc: "2.0", id, method: "ping" })
      return until(id)
    }
  }
}

/** A `tools/call` request. */
export const call = (id: string | number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args }
})
