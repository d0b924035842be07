/**
 * Start-up time (outside `npm test`): spawn → first `tools/list` answer, as raw
 * JSON lines over stdio, median of N spawns, for each server given, in both
 * openings (`initialize` for the 2025 revisions, `server/discover` for
 * 2026-07-28). Starts its own redis-server unless `--memory` is given.
 *
 *   npm run build
 *   npx node scripts/startup.ts                       # dist/main.js and the reference, 9 spawns each
 *   npx node scripts/startup.ts --runs 15 --main /tmp/old/dist/main.js --main dist/main.js
 *   npx node scripts/startup.ts --memory --no-reference
 *   npx node scripts/startup.ts --env NODE_DISABLE_COMPILE_CACHE=1   (extra environment for our servers)
 *
 * The spawns of all servers are interleaved (one of each per round), so load
 * from elsewhere on the machine falls on all of them alike. Prints one line per
 * server and opening: the median, min and max wall time (ms), the median CPU
 * time the server's main thread ran until then (ms; steadier than wall time on
 * a busy machine), and its RSS (MiB) right after its first `tools/list` answer.
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { redisAvailable } from "../test/support/env.ts"
import { startRedis } from "../test/support/standalone.ts"

const { values } = parseArgs({
  options: {
    main: { type: "string", multiple: true },
    runs: { type: "string", default: "9" },
    env: { type: "string", multiple: true },
    memory: { type: "boolean", default: false },
    "no-reference": { type: "boolean", default: false }
  }
})
const runs = Number(values.runs)
const mains = values.main ?? ["dist/main.js"]
const REFERENCE = "node_modules/@modelcontextprotocol/server-redis/dist/index.js"

type Opening = "initialize" | "server/discover"

const line = (message: object) => `${JSON.stringify(message)}\n`
const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "startup", version: "1" }
}
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024
/** CPU time the main thread of a live process has run, in ms (the scheduler's ns count; the critical path). */
const cpuMs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6
interface Sample {
  readonly ms: number
  readonly cpu: number
  readonly rss: number
}

/** One spawn: ms until the tools/list answer arrives, and the RSS then. */
const once = (args: ReadonlyArray<string>, env: Record<string, string>, opening: Opening) =>
  new Promise<Sample>((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000)
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${args.join(" ")}: no tools/list answer in 20 s; stderr: ${stderr}`))
    }, 20_000)
    let buffered = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const message = JSON.parse(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
        if (message.id === 1 && opening === "initialize") {
          child.stdin.write(line({ jsonrpc: "2.0", method: "notifications/initialized" }))
          child.stdin.write(line({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }))
        } else if (message.id === 1) {
          child.stdin.write(line({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: META } }))
        } else if (message.id === 2) {
          const ms = performance.now() - t0
          const rss = rssMiB(child.pid ?? 0)
          const cpu = cpuMs(child.pid ?? 0)
          clearTimeout(timer)
          child.kill("SIGKILL")
          if (message.result?.tools === undefined) reject(new Error(`tools/list failed: ${JSON.stringify(message)}`))
          else resolve({ ms, cpu, rss })
        }
      }
    })
    child.stdin.write(
      opening === "initialize"
        ? line({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "startup", version: "1" } }
          })
        : line({ jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: META } })
    )
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

interface Subject {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly opening: Opening
  readonly samples: Array<Sample>
}

const report = ({ name, opening, samples }: Subject) => {
  const ms = samples.map((s) => s.ms)
  const at = (xs: ReadonlyArray<number>) => median(xs).toFixed(0).padStart(5)
  process.stdout.write(
    `${name.padEnd(36)} ${opening.padEnd(15)} median ${at(ms)} ms (min ${Math.min(...ms).toFixed(0)}, ` +
      `max ${Math.max(...ms).toFixed(0)}, n=${ms.length})  cpu ${at(samples.map((s) => s.cpu))} ms  ` +
      `rss ${at(samples.map((s) => s.rss))} MiB\n`
  )
}

const redis = values.memory ? undefined : redisAvailable() ? await startRedis() : undefined
if (!values.memory && redis === undefined) throw new Error("redis-server is not installed (or pass --memory)")
try {
  const url = redis?.url
  const extra = Object.fromEntries(
    (values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])
  )
  const env: Record<string, string> = { ...extra, ...(url === undefined ? {} : { REDIS_URL: url }) }
  const subjects: Array<Subject> = mains.flatMap((main) =>
    (["initialize", "server/discover"] as const).map((opening) => ({
      name: main,
      args: [main],
      env,
      opening,
      samples: []
    }))
  )
  if (!values["no-reference"] && url !== undefined) {
    subjects.push({ name: "reference", args: [REFERENCE, url], env: {}, opening: "initialize", samples: [] })
  }
  for (const s of subjects) await once(s.args, s.env, s.opening) // warm the page cache
  for (let i = 0; i < runs; i++) {
    for (const s of subjects) s.samples.push(await once(s.args, s.env, s.opening))
  }
  subjects.forEach(report)
} finally {
  await redis?.stop()
}
