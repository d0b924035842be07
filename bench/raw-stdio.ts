/**
 * The raw stdio driver: a client that costs next to nothing, so calls/s
 * measure the server, not the client (the SDK clients spend as much CPU per
 * call as the servers they drive). It spawns the server, opens the session
 * with the exact bytes the SDK clients send (raw-wire.ts), then writes
 * pre-serialised `tools/call` lines and matches answers by id. Every answer is
 * checked cheaply for errors (and for the expected text, when a call gives
 * one); one in SAMPLE_EVERY is parsed in full and checked to be a tool result.
 * A wrong answer rejects the call with WrongAnswer.
 */
import { type ChildProcessWithoutNullStreams, spawn as spawnChild } from "node:child_process"
import { trackChild } from "../test/support/registry.ts"
import { rssMiB, StderrTail, withTimeout } from "./processes.ts"
import {
  checkLine,
  checkResult,
  DISCOVER_ID,
  DISCOVER_LINE,
  INITIALIZED_LINE,
  initializeLine,
  type Message,
  quickId,
  toolsCallTemplate,
  toolsListLine,
  WrongAnswer
} from "./raw-wire.ts"
import { firstLine } from "./run-targets.ts"
import { type Era, type Session, type Spawn, Unavailable } from "./stdio-client.ts"

const SAMPLE_EVERY = 64
const CONNECT_TIMEOUT_MS = 30_000
/** With calls pending and nothing heard for this long, every pending call fails. */
const SILENCE_MS = 30_000

/**
 * How an answer is read: a tool call's is checked (and parsed when `full`; its line is what the call
 * resolves with when `text`); any other is parsed and returned.
 */
type Reading =
  | { readonly tool: true; readonly full: boolean; readonly expect?: string; readonly text?: true }
  | { readonly tool: false }
const FULL_TOOL: Reading = { tool: true, full: true }
const OTHER: Reading = { tool: false }

interface Pending {
  readonly resolve: (m: Message | string | undefined) => void
  readonly reject: (e: Error) => void
  readonly reading: Reading
}

class Wire {
  private readonly pending = new Map<number | string, Pending>()
  private nextId = 0
  private rest = ""
  private answers = 0
  private heard = performance.now()
  private gone: Error | undefined
  private readonly watchdog: NodeJS.Timeout
  private readonly child: ChildProcessWithoutNullStreams
  readonly stderr: StderrTail

  constructor(child: ChildProcessWithoutNullStreams, stderr: StderrTail) {
    this.child = child
    this.stderr = stderr
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => this.data(chunk))
    child.stdin.on("error", () => undefined)
    child.once("close", (code) => this.fail(new Unavailable(`exits (code ${code})${stderr.describe()}`)))
    this.watchdog = setInterval(() => {
      if (this.pending.size > 0 && performance.now() - this.heard > SILENCE_MS)
        this.fail(new Error(`no answer in ${SILENCE_MS / 1000} s${stderr.describe()}`))
    }, 1000)
    this.watchdog.unref()
  }

  /**
   * Send a request line built for the next id; resolves with its answer (parsed unless a tool call's
   * that is not `full`; the line itself for a `text` reading).
   */
  request(line: (id: number) => string, reading: Reading): Promise<Message | string | undefined> {
    const id = this.nextId++
    return this.send(id, line(id), reading)
  }

  /** Send a request with its own id (not one of the numbered ones). */
  send(id: number | string, line: string, reading: Reading): Promise<Message | string | undefined> {
    if (this.gone !== undefined) return Promise.reject(this.gone)
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, reading })
      this.child.stdin.write(line)
    })
  }

  notify(line: string): void {
    this.child.stdin.write(line)
  }

  private data(chunk: string): void {
    this.heard = performance.now()
    const text = this.rest === "" ? chunk : this.rest + chunk
    let start = 0
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      if (end > start) this.lineOrFail(text.slice(start, end))
      start = nl + 1
    }
    this.rest = text.slice(start)
  }

  /** Anything on stdout that is not a JSON-RPC message breaks the session: every pending call fails. */
  private lineOrFail(line: string): void {
    try {
      this.line(line)
    } catch (e) {
      this.fail(new WrongAnswer(`not a JSON-RPC message on stdout (${firstLine(e)}): ${line.slice(0, 200)}`))
    }
  }

  private line(line: string): void {
    let id: number | string = quickId(line)
    let parsed: Message | undefined
    if (id < 0 || !this.pending.has(id)) {
      parsed = JSON.parse(line) as Message
      if (parsed.method !== undefined) {
        this.serverMessage(parsed)
        return
      }
      id = typeof parsed.id === "number" || typeof parsed.id === "string" ? parsed.id : -1
    }
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    const r = p.reading
    try {
      if (r.tool) {
        parsed = checkLine(line, r.expect) ?? parsed
        if (r.full || this.answers++ % SAMPLE_EVERY === 0) {
          parsed ??= JSON.parse(line) as Message
          if (parsed.id !== id) throw new WrongAnswer(`answer ${JSON.stringify(parsed.id)} read as ${id}`)
          checkResult(parsed)
        }
      } else parsed ??= JSON.parse(line) as Message
      p.resolve(r.tool && r.text === true ? line : parsed)
    } catch (e) {
      p.reject(e instanceof Error ? e : new Error(String(e)))
    }
  }

  /** A notification is ignored; a request from the server gets `{}` for ping, method-not-found otherwise. */
  private serverMessage(msg: Message): void {
    if (msg.id === undefined) return
    const answer =
      msg.method === "ping"
        ? { jsonrpc: "2.0", id: msg.id, result: {} }
        : { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } }
    this.notify(`${JSON.stringify(answer)}\n`)
  }

  fail(e: Error): void {
    this.gone ??= e
    clearInterval(this.watchdog)
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }
}

/** The result of a full answer as a tool's output: structuredContent, else the content. */
const output = (msg: Message | string | undefined): unknown => {
  const result = checkResult(typeof msg === "object" ? msg : {})
  return result.structuredContent ?? result.content
}

const handshake = async (wire: Wire, era: Era): Promise<void> => {
  if (era === "2025-11-25") {
    const init = (await wire.request(initializeLine, OTHER)) as Message | undefined
    if (init?.error !== undefined) throw new Unavailable(`initialize refused: ${init.error.message}`)
    wire.notify(INITIALIZED_LINE)
    return
  }
  const discover = (await wire.send(DISCOVER_ID, DISCOVER_LINE, OTHER)) as
    | (Message & { result?: { supportedVersions?: ReadonlyArray<string> } })
    | undefined
  if (discover?.result?.supportedVersions?.includes(era) !== true)
    throw new Unavailable("server does not speak 2026-07-28")
}

const stop = async (child: ChildProcessWithoutNullStreams): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()))
  child.stdin.end()
  const term = setTimeout(() => child.kill("SIGTERM"), 2000)
  const kill = setTimeout(() => child.kill("SIGKILL"), 5000)
  await closed
  clearTimeout(term)
  clearTimeout(kill)
}

/** Spawn the server and open a raw session in `era`; `listTools` is the caller's first request. */
export const connectRaw = async (spawn: Spawn, era: Era): Promise<Session> => {
  const child = spawnChild(spawn.command, [...spawn.args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...spawn.env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  trackChild(child)
  const pid = child.pid
  const wire = new Wire(child, new StderrTail(child.stderr))
  try {
    if (pid === undefined) throw new Unavailable("the server process has no pid")
    await withTimeout(handshake(wire, era), CONNECT_TIMEOUT_MS, "handshake")
  } catch (e) {
    wire.fail(new Error("closed"))
    await stop(child)
    if (e instanceof Unavailable) throw e
    throw new Unavailable(`could not connect: ${e instanceof Error ? e.message : String(e)}${wire.stderr.describe()}`)
  }
  return {
    pid,
    call: async (name, args) => output(await wire.request(toolsCallTemplate(era, name, args), FULL_TOOL)),
    prepare: (name, args, expect) => {
      const line = toolsCallTemplate(era, name, args)
      const reading: Reading = expect === undefined ? { tool: true, full: false } : { tool: true, full: false, expect }
      return () => wire.request(line, reading)
    },
    prepareText: (name, args) => {
      const line = toolsCallTemplate(era, name, args)
      const reading: Reading = { tool: true, full: false, text: true }
      return () => wire.request(line, reading) as Promise<string>
    },
    listTools: async () => {
      const msg = (await wire.request((id) => toolsListLine(era, id), OTHER)) as
        | (Message & { result?: { tools?: ReadonlyArray<{ name: string }> } })
        | undefined
      if (msg?.error !== undefined || !Array.isArray(msg?.result?.tools))
        throw new Error(`tools/list failed: ${JSON.stringify(msg).slice(0, 200)}`)
      return msg.result.tools.map((t) => t.name)
    },
    rssMiB: () => rssMiB(pid),
    close: async () => {
      wire.fail(new Error("closed"))
      await stop(child)
    }
  }
}
