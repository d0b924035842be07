/**
 * The stdio transport of the MCP edge: newline-delimited JSON-RPC over stdin and
 * stdout that bad input cannot break. Hand it to `serveStdio(factory, { transport })`.
 *
 * - A line over `maxMessageBytes` is skipped up to its newline without being
 *   held, answered with -32600 (id null), and the session goes on.
 * - Malformed JSON is answered with -32700, a message that is not a request MCP
 *   can serve with -32600 (or -32602 for positional params); a malformed
 *   notification or response is dropped. Every rejected line is logged.
 * - When stdin ends, requests already received still run and their answers are
 *   written; then, or after `drainTimeoutMs`, the wire closes. `serveStdio`
 *   aborts whatever is in flight when the wire closes, so the wire fires `onclose`
 *   only once the drain is over. `closed` resolves then: await it to know the
 *   connection is over (serveStdio takes `onclose` for itself).
 * - A broken stdout (EPIPE, closed) closes the wire at once.
 *
 * ```ts
 * const wire = yield* StdioWire.make()            // settings from the ConfigProvider, logs via Effect
 * const handle = serveStdio(factory, { transport: wire })
 * yield* Effect.promise(() => wire.closed)        // on interruption (SIGTERM): handle.close()
 * ```
 */
import type { Readable, Writable } from "node:stream"
import type { JSONRPCMessage, MessageExtraInfo, RequestId, Transport } from "@modelcontextprotocol/server"
import { type Config, Effect } from "effect"
import { checkLine, excerpt, INVALID_REQUEST, isRequestId } from "./JsonRpcLine.ts"
import { LineFramer } from "./LineFramer.ts"
import { DEFAULT_MAX_MESSAGE_BYTES, DRAIN_MARGIN_MS, wireSettingsConfig } from "./WireSettings.ts"
import { WireWriter } from "./WireWriter.ts"

export type WireLog = (level: "Debug" | "Info" | "Warn", message: string, fields: Record<string, unknown>) => void

export interface StdioWireOptions {
  /** @default process.stdin */
  readonly input?: Readable
  /** @default process.stdout */
  readonly output?: Writable
  /** Longest accepted line in bytes, newline excluded. @default 8 MiB */
  readonly maxMessageBytes?: number
  /** How long requests in flight may take to answer once stdin has ended. @default 6000 */
  readonly drainTimeoutMs?: number
  /** Where rejected lines and the drain are reported. @default JSON lines on stderr */
  readonly log?: WireLog
}

const INTERNAL_ERROR = -32603
/** A `subscriptions/listen` request stays open until the connection ends: it is not work to wait for. */
const LONG_LIVED = new Set(["subscriptions/listen"])
const MAX_LISTED_IDS = 20

const stderrLog: WireLog = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ message, level: level.toUpperCase(), ...fields })}\n`)
}

const keyOf = (id: RequestId): string => `${typeof id}:${id}`

const lineExcerpt = (bytes: Buffer): string => excerpt(bytes.subarray(0, 800).toString("utf8"))

export class StdioWire implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  /** Resolves once the wire has closed: drained after stdin ended, stdout broke, or `close()`. */
  readonly closed: Promise<void>
  readonly maxMessageBytes: number
  readonly drainTimeoutMs: number

  private phase: "new" | "open" | "draining" | "closed" = "new"
  private finishing = false
  private version: string | undefined
  private drainTimer: ReturnType<typeof setTimeout> | undefined
  private readonly inFlight = new Map<string, number>()
  private readonly input: Readable
  private readonly output: Writable
  private readonly log: WireLog
  private readonly framer: LineFramer
  private readonly writer: WireWriter
  private markClosed: () => void = () => {}

  /** Builds a wire from the settings (REDIS_MCP_MAX_MESSAGE_BYTES, REDIS_MCP_DRAIN_TIMEOUT_MS), logging through Effect. */
  static readonly make = (options: Omit<StdioWireOptions, "log"> = {}): Effect.Effect<StdioWire, Config.ConfigError> =>
    Effect.gen(function* () {
      const settings = yield* wireSettingsConfig
      const runFork = Effect.runForkWith(yield* Effect.context<never>())
      const log: WireLog = (level, message, fields) => {
        runFork(
          level === "Debug"
            ? Effect.logDebug(message, fields)
            : level === "Info"
              ? Effect.logInfo(message, fields)
              : Effect.logWarning(message, fields)
        )
      }
      return new StdioWire({ ...settings, ...options, log })
    })

  constructor(options: StdioWireOptions = {}) {
    this.input = options.input ?? process.stdin
    this.output = options.output ?? process.stdout
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000 + DRAIN_MARGIN_MS
    this.log = options.log ?? stderrLog
    this.writer = new WireWriter(this.output)
    this.framer = new LineFramer(this.maxMessageBytes, { line: this.onLine, oversized: this.onOversized })
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve
    })
  }

  /** Bytes of an unfinished stdin line held right now: at most `maxMessageBytes`. */
  get bufferedBytes(): number {
    return this.framer.bufferedBytes
  }

  /** Requests received and not yet answered (long-lived subscriptions excluded). */
  get requestsInFlight(): number {
    let n = 0
    for (const count of this.inFlight.values()) n += count
    return n
  }

  /** The protocol version the SDK negotiated, if it told us. */
  get protocolVersion(): string | undefined {
    return this.version
  }

  setProtocolVersion = (version: string): void => {
    this.version = version
  }

  async start(): Promise<void> {
    if (this.phase !== "new") throw new Error("StdioWire already started")
    this.phase = "open"
    this.input.on("data", this.onData)
    this.input.on("end", this.onInputEnd)
    this.input.on("close", this.onInputEnd)
    // Stays attached after close: a late error on either stream must never crash the process.
    this.input.on("error", this.onInputError)
    this.output.on("error", this.onOutputError)
    this.output.on("close", this.onOutputClose)
    if (this.input.readableEnded || this.input.destroyed) setImmediate(this.onInputEnd)
    else this.input.resume()
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.phase === "closed") throw new Error("StdioWire is closed")
    const written = this.writer.write(`${JSON.stringify(message)}\n`)
    if (("result" in message || "error" in message) && "id" in message && message.id !== undefined) {
      this.settle(message.id)
    }
    return written
  }

  /**
   * Writes the answer to request `id`, already encoded as JSON text (a transport that encodes its
   * own answers, StdioFastPath.ts), in order with everything else sent.
   */
  answer(id: RequestId, text: string): void {
    if (this.phase === "closed") return
    this.writer.post(`${text}\n`)
    this.settle(id)
  }

  async close(): Promise<void> {
    this.shutdown()
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (this.phase === "open") this.framer.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk)
  }

  private readonly onLine = (bytes: Buffer): void => {
    const verdict = checkLine(bytes)
    switch (verdict._tag) {
      case "Blank":
        return
      case "Deliver":
        this.deliver(verdict.kind, verdict.message)
        return
      case "Drop":
        this.log("Warn", "stdin line dropped", {
          reason: verdict.reason,
          bytes: bytes.length,
          line: lineExcerpt(bytes)
        })
        return
      case "Answer":
        this.log("Warn", "stdin line rejected", {
          code: verdict.code,
          id: verdict.id,
          reason: verdict.message,
          bytes: bytes.length,
          line: lineExcerpt(bytes)
        })
        this.reply(verdict.id, verdict.code, verdict.message)
    }
  }

  private readonly onOversized = (bytes: number): void => {
    const message = `Invalid Request: a message of ${bytes} bytes is over the ${this.maxMessageBytes}-byte limit (REDIS_MCP_MAX_MESSAGE_BYTES); it was discarded`
    this.log("Warn", "stdin line rejected", { code: INVALID_REQUEST, reason: message, bytes })
    this.reply(null, INVALID_REQUEST, message)
  }

  private deliver(kind: "request" | "notification" | "response", message: JSONRPCMessage): void {
    const m = message as { id?: RequestId; method?: string; params?: { requestId?: unknown } }
    if (kind === "request" && !LONG_LIVED.has(m.method!)) this.track(m.id!)
    if (kind === "notification" && m.method === "notifications/cancelled" && isRequestId(m.params?.requestId)) {
      this.settle(m.params.requestId)
    }
    try {
      this.onmessage?.(message)
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error))
      this.onerror?.(e)
      if (kind === "request") {
        this.settle(m.id!)
        this.reply(m.id!, INTERNAL_ERROR, "Internal error")
      }
    }
  }

  /** A JSON-RPC error written by the wire itself; `id` may be null, which the SDK's types do not allow. */
  private reply(id: RequestId | null, code: number, message: string): void {
    if (this.phase === "closed") return
    this.writer.post(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } })}\n`)
  }

  private track(id: RequestId): void {
    const key = keyOf(id)
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1)
  }

  private settle(id: RequestId): void {
    const key = keyOf(id)
    const count = this.inFlight.get(key)
    if (count === undefined) return
    if (count > 1) this.inFlight.set(key, count - 1)
    else this.inFlight.delete(key)
    if (this.phase === "draining" && this.inFlight.size === 0) this.finishDrain()
  }

  private readonly onInputEnd = (): void => {
    if (this.phase !== "open") return
    this.phase = "draining"
    this.detachInput()
    this.framer.end()
    const pending = this.requestsInFlight
    this.log("Info", "stdin ended; answering the requests in flight, then closing", {
      inFlight: pending,
      drainTimeoutMs: this.drainTimeoutMs
    })
    this.drainTimer = setTimeout(this.onDrainTimeout, this.drainTimeoutMs)
    if (pending === 0) this.finishDrain()
  }

  private readonly onDrainTimeout = (): void => {
    if (this.phase === "closed") return
    const unanswered = [...this.inFlight.keys()]
    this.log("Warn", "drain timed out; closing with requests unanswered", {
      unanswered: unanswered.length,
      ids: unanswered.slice(0, MAX_LISTED_IDS),
      drainTimeoutMs: this.drainTimeoutMs
    })
    this.shutdown()
  }

  /** Every request is answered: close once the answers have left (still bounded by the drain timer). */
  private finishDrain(): void {
    if (this.finishing) return
    this.finishing = true
    // A turn later: the senders of those answers (awaiting their write) finish first, so closing does not
    // abort requests already answered.
    this.writer.flushed().then(() => setImmediate(() => this.shutdown()))
  }

  private readonly onInputError = (error: Error): void => {
    if (this.phase !== "open") return
    this.onerror?.(error)
    this.onInputEnd()
  }

  private readonly onOutputError = (error: Error): void => {
    if (this.phase === "closed") return
    // EPIPE: the client closed its end of stdout, which is how a client goes away, not a fault.
    const gone = (error as NodeJS.ErrnoException).code === "EPIPE"
    this.log(gone ? "Debug" : "Warn", gone ? "the client closed stdout; closing" : "stdout failed; closing", {
      error: error.message
    })
    this.writer.fail(error)
    this.onerror?.(error)
    this.shutdown()
  }

  private readonly onOutputClose = (): void => {
    if (this.phase === "closed") return
    this.log("Debug", "stdout closed; closing", {})
    this.writer.fail(new Error("stdout closed"))
    this.shutdown()
  }

  private detachInput(): void {
    this.input.off("data", this.onData)
    this.input.off("end", this.onInputEnd)
    this.input.off("close", this.onInputEnd)
    if (this.input.listenerCount("data") === 0) this.input.pause()
  }

  private shutdown(): void {
    if (this.phase === "closed") return
    const started = this.phase !== "new"
    this.phase = "closed"
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer)
    if (started) this.detachInput()
    this.framer.stop()
    // What was sent before the close still leaves (the end of the turn would be too late).
    this.writer.flushNow()
    this.writer.fail(new Error("StdioWire is closed"))
    this.inFlight.clear()
    this.onclose?.()
    this.markClosed()
  }
}
