/**
 * Child processes of the bench: where the servers live on disk, how to start
 * the long-lived (HTTP) ones, their RSS, and the tail of their stderr for
 * error messages. The redis-server comes from test/support.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { trackChild } from "../test/support/registry.ts"
import { sleep, withTimeout } from "../test/support/wait.ts"

export { withTimeout }

/** This checkout's root, dist/main.js, and the bench's own servers. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url))
export const path = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url))
export const REFERENCE_MAIN = path("node_modules/@modelcontextprotocol/server-redis/dist/index.js")

/** VmRSS of a live process in MiB (undefined once it has gone). */
export const rssMiB = (pid: number): number | undefined => {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/**
 * CPU time a live process has used, in ms, all threads: the sum of its threads' schedstat run
 * times (ns), or, where the kernel has no schedstat, utime + stime from its stat (10 ms ticks).
 */
export const cpuMs = (pid: number): number | undefined => {
  try {
    let ns = 0
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0])
    if (Number.isFinite(ns) && ns > 0) return ns / 1e6
  } catch {
    // no schedstat, or a thread ended while being read: fall back to the coarse figure
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

/** Keeps draining a child's stderr (so it never blocks on a full pipe) and remembers the last lines. */
export class StderrTail {
  private lines: Array<string> = []
  constructor(stream: NodeJS.EventEmitter | null) {
    stream?.on("data", (chunk: Buffer) => {
      this.lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
      )
      if (this.lines.length > 20) this.lines = this.lines.slice(-20)
    })
  }
  text(): string {
    return this.lines.join("\n")
  }
  /** The last line, as a suffix for an error message (": …"), or "". */
  describe(): string {
    const last = this.lines.at(-1)
    return last === undefined ? "" : `: ${last.replace(/^effect-redis-mcp: (invalid configuration: )?/, "")}`
  }
}

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  readonly stderr: StderrTail
  readonly exited: () => boolean
  readonly stop: () => Promise<void>
}

/** Spawn `node args…` with a minimal environment; stdout ignored, stderr kept. */
export const spawnNode = (args: ReadonlyArray<string>, env: Record<string, string>): Child => {
  const child = spawn(process.execPath, [...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  trackChild(child)
  const stderr = new StderrTail(child.stderr)
  // "close" comes after the last stderr chunk, so a reason for exiting is never missed.
  const gone = new Promise<void>((resolve) => child.once("close", () => resolve()))
  let closed = false
  void gone.then(() => {
    closed = true
  })
  const exited = () => closed
  const stop = async () => {
    if (exited()) return
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
    await gone
    clearTimeout(timer)
  }
  return { process: child, pid: child.pid ?? -1, stderr, exited, stop }
}

/**
 * Wait until `probe` succeeds, or the child exits (the error then carries its
 * stderr), or `timeoutMs` passes.
 */
export const waitUntil = async (child: Child, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (child.exited()) throw new Error(`exits at start (code ${child.process.exitCode})${child.stderr.describe()}`)
    if (await probe().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`not ready after ${timeoutMs} ms${child.stderr.describe()}`)
}

/** Fails with a clear message when a dist directory (ours, or an older build) is not there. */
export const requireMain = (dist: string): string => {
  const main = `${dist.replace(/\/$/, "")}/main.js`
  if (!existsSync(main)) throw new Error(`${main} is missing (run npm run build, or pass a built dist/)`)
  return main
}
