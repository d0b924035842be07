/**
 * Process inspection helpers for tests of the harness itself.
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { NO_WATCHDOG_ENV } from "../support/registry.ts"

/** True when `pid` exists and is not a zombie. */
export const processAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

export interface OrphanRun {
  readonly fixturePid: number
  readonly redisPid: number
  readonly dir: string
  readonly exited: Promise<void>
  kill(signal?: NodeJS.Signals): void
}

/** Runs orphan-fixture.ts in a separate Node process and reports what it started. */
export const runOrphanFixture = (mode: "exit" | "idle", options: { watchdog?: boolean } = {}): Promise<OrphanRun> =>
  new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL("./orphan-fixture.ts", import.meta.url))
    const child = spawn(process.execPath, [script, mode], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, [NO_WATCHDOG_ENV]: options.watchdog === false ? "1" : "0" }
    })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    let output = ""
    child.once("error", reject)
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      output += chunk
      const line = output.split("\n")[0]
      if (line === undefined || !output.includes("\n")) return
      const [pid, dir] = line.split(" ")
      resolve({
        fixturePid: child.pid ?? -1,
        redisPid: Number(pid),
        dir: dir ?? "",
        exited,
        kill: (signal = "SIGKILL") => child.kill(signal)
      })
    })
    void exited.then(() => reject(new Error(`fixture exited before reporting: ${output}`)))
  })
