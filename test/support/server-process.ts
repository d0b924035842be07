/**
 * A restartable redis-server / redis-sentinel process: spawned with its
 * stdout+stderr appended to a log file, tracked in the registry, and
 * restartable with exactly the same command line.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, openSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { command, type Endpoint } from "./admin.ts"
import { trackChild } from "./registry.ts"
import { waitFor, withTimeout } from "./wait.ts"

export interface ServerProcessSpec {
  /** Used in error messages, e.g. "redis-server 127.0.0.1:12345". */
  readonly name: string
  readonly bin: string
  readonly args: readonly string[]
  readonly cwd: string
  readonly logFile: string
  /** How to PING it for readiness. */
  readonly endpoint: Endpoint
}

export interface ServerProcess {
  readonly spec: ServerProcessSpec
  /** Pid of the current incarnation, undefined when not running. */
  pid(): number | undefined
  isRunning(): boolean
  /** Spawns the process and waits until it answers PING (and is not LOADING). */
  start(readyTimeoutMs?: number): Promise<void>
  /** Sends `signal` and waits for exit; escalates to SIGKILL after `graceMs`. */
  terminate(signal: NodeJS.Signals, graceMs?: number): Promise<void>
  /** Waits until the process answers PING. */
  waitReady(timeoutMs?: number): Promise<void>
  /** Last `lines` lines of the log file. */
  logTail(lines?: number): Promise<string>
}

const isAlive = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null

const exitOf = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (!isAlive(child)) return resolve()
    child.once("exit", () => resolve())
  })

const exitDescription = (child: ChildProcess | undefined): string =>
  child === undefined ? "never started" : `exit code ${child.exitCode}, signal ${child.signalCode}`

export const serverProcess = (spec: ServerProcessSpec): ServerProcess => {
  let child: ChildProcess | undefined

  const logTail = async (lines = 30): Promise<string> => {
    try {
      const text = await readFile(spec.logFile, "utf8")
      return text
        .split("\n")
        .slice(-lines - 1)
        .join("\n")
    } catch {
      return "(no log)"
    }
  }

  const diagnostics = async (): Promise<string> =>
    `--- log tail of ${spec.name} (${spec.logFile}) ---\n${await logTail()}`

  const waitReady = async (timeoutMs = 15_000): Promise<void> => {
    await waitFor(async () => (await command(spec.endpoint, "PING")) === "PONG", {
      timeoutMs,
      intervalMs: 50,
      description: `${spec.name} to answer PING`,
      diagnostics,
      abortIf: () => (isAlive(child) ? undefined : `${spec.name} is not running (${exitDescription(child)})`)
    })
  }

  const spawnChild = async (): Promise<void> => {
    const fd = openSync(spec.logFile, "a")
    try {
      const next = spawn(spec.bin, [...spec.args], { cwd: spec.cwd, stdio: ["ignore", fd, fd] })
      await new Promise<void>((resolve, reject) => {
        next.once("spawn", resolve)
        next.once("error", (error) => reject(new Error(`cannot start ${spec.name}: ${error.message}`)))
      })
      trackChild(next)
      child = next
    } finally {
      closeSync(fd)
    }
  }

  return {
    spec,
    pid: () => (isAlive(child) ? child.pid : undefined),
    isRunning: () => isAlive(child),
    waitReady,
    logTail,
    start: async (readyTimeoutMs = 15_000) => {
      if (isAlive(child)) throw new Error(`${spec.name} is already running (pid ${child.pid})`)
      await spawnChild()
      await waitReady(readyTimeoutMs)
    },
    terminate: async (signal, graceMs = 10_000) => {
      const current = child
      if (!isAlive(current)) return
      const exited = exitOf(current)
      current.kill(signal)
      if (signal === "SIGKILL") return exited
      try {
        await withTimeout(exited, graceMs, `${spec.name} to exit after ${signal}`)
      } catch {
        current.kill("SIGKILL")
        await exited
      }
    }
  }
}
