/**
 * A V8 CPU profile of the server (`--cpu-profile FILE`, or Node's `--cpu-prof`) as
 * time per call by stage of a `tools/call`: read and parse, dispatch, the edge
 * (decode, call path, encode), the handler, the Redis call layer, ioredis, the
 * write syscalls (to Redis and to stdout, told apart by who made them), the SDK,
 * the Effect runtime, GC. Bundled frames are mapped to their sources through the
 * bundle's source maps (`dist/chunks/*.js.map`).
 *
 *   npx node bench/cpu-stages.ts FILE.cpuprofile CALLS
 *
 * A sample goes to the innermost frame of a known stage; natives (JSON, syscalls)
 * to their nearest caller's. The whole profile is counted: profile a long run (tens
 * of thousands of calls) so that start-up is a small part, or start the profiler
 * after a warm-up. Numbers under the profiler are some 10–20 % above the bench's.
 */
import { existsSync, readFileSync } from "node:fs"
import { SourceMap } from "node:module"
import { fileURLToPath } from "node:url"

interface Frame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: Frame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, callsArg] = process.argv.slice(2)
if (file === undefined || callsArg === undefined) {
  process.stderr.write("usage: npx node bench/cpu-stages.ts FILE.cpuprofile CALLS\n")
  process.exit(2)
}
const calls = Number(callsArg)
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const maps = new Map<string, SourceMap | undefined>()
const mapOf = (url: string): SourceMap | undefined => {
  if (!maps.has(url)) {
    const path = `${fileURLToPath(url)}.map`
    maps.set(url, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : undefined)
  }
  return maps.get(url)
}

/** The source a frame comes from: its URL, or for a bundle the mapped original file. */
const sourceOf = ({ url, lineNumber, columnNumber }: Frame): string => {
  if (url === "" || url.startsWith("node:") || url.includes("/node_modules/") || !url.startsWith("file:")) return url
  const entry = mapOf(url)?.findEntry(lineNumber, columnNumber)
  return entry !== undefined && "originalSource" in entry ? entry.originalSource : url
}

const STAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/node_modules\/effect\//, "Effect runtime"],
  [/node_modules\/(@modelcontextprotocol|zod)\//, "SDK (+ zod)"],
  [
    /node_modules\/(ioredis|redis-parser|@ioredis|denque|cluster-key-slot|standard-as-callback)\//,
    "Redis client (ioredis)"
  ],
  [/src\/layers\/(Redis|Deadlines|Latency)/, "Redis call layer (timeouts, latency)"],
  [/src\/(services|tools)\//, "handler (tool + service)"],
  [/src\/mcp\/(Registry|Call|Envelope|Trace)\.ts/, "edge (decode, call path, encode)"],
  [/src\/mcp\/(StdioFastPath|JsonRpcLine)\.ts/, "dispatch (fast path)"],
  [/src\/mcp\/(StdioWire|LineFramer)\.ts/, "read + parse (wire)"],
  [/src\/mcp\/WireWriter\.ts/, "write (wire)"],
  [/src\/mcp\/(audit\/|CallMetrics)|src\/layers\/Metrics/, "audit + metrics"],
  [/src\//, "other (ours)"],
  [/^node:internal\/(streams|stream_base_commons|net)|^node:(net|stream|buffer)/, "node streams + sockets"],
  [/^node:internal\/(process|timers|async_hooks)|^node:(timers|async_hooks)/, "node event loop (ticks, timers)"],
  [/^node:/, "node (other)"]
]
const stageOf = (frame: Frame): string | undefined => {
  const source = sourceOf(frame)
  if (source === "") return undefined
  return STAGES.find(([re]) => re.test(source))?.[1] ?? "other"
}
const isNode = (stage: string | undefined) => stage?.startsWith("node ") === true
const WRITES = new Set(["writeUtf8String", "writeBuffer", "writev", "writeLatin1String"])

const total = new Map<string, number>()
let busy = 0
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0
  const leaf = byId.get(profile.samples[i]!)!
  const name = leaf.callFrame.functionName
  if (name === "(idle)") continue
  busy += delta
  const stack: Array<ProfileNode> = []
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!)
  const stages = stack.map((n) => stageOf(n.callFrame))
  const inner = stages.find((s) => s !== undefined)
  const ours = stages.find((s) => s !== undefined && !isNode(s))
  let stage: string
  if (name === "(garbage collector)") stage = "GC"
  else if (name === "(program)") stage = "V8 (program)"
  else if (WRITES.has(name)) stage = ours?.startsWith("Redis") ? "write syscall to Redis" : "write syscall to stdout"
  else if (isNode(inner) && ours?.startsWith("Redis")) stage = "Redis client (ioredis)"
  else stage = inner ?? "V8 natives"
  total.set(stage, (total.get(stage) ?? 0) + delta)
}

process.stdout.write(
  `${file}: ${(busy / 1000).toFixed(0)} ms busy, ${calls} calls: ${(busy / calls).toFixed(1)} µs/call\n`
)
for (const [stage, us] of [...total].sort((a, b) => b[1] - a[1]))
  process.stdout.write(
    `${(us / calls).toFixed(1).padStart(8)} µs  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${stage}\n`
  )
