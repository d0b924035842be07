/**
 * The servers one run compares: ours (and optionally an older build of ours),
 * the reference Redis server, and the ceilings (SDK echo servers, a bare
 * node:http echo). Each says how it starts, which protocol eras it is tried
 * in, and which operation stands for each target.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { path, REFERENCE_MAIN, requireMain } from "./processes.ts"
import { ERAS, type Era, type Spawn } from "./stdio-client.ts"
import { type Client, echoOps, GET_KEY, type Op, oursOps, referenceOps, type TargetId, VALUE } from "./workloads.ts"

export type Role = "ours" | "baseline" | "reference" | "ceiling" | "explains"

export interface StdioSystem {
  readonly name: string
  readonly role: Role
  readonly eras: ReadonlyArray<Era>
  readonly spawn: Spawn
  readonly ops: (client: Client) => Partial<Record<TargetId, Op>>
  /** Run once before the targets (data the targets read); retried until the server is ready. */
  readonly seed?: (client: Client) => Promise<unknown>
}

export interface HttpSystem {
  readonly name: string
  readonly role: Role
  /** `node` arguments; `{port}` is replaced by a free port. */
  readonly args: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly path: string
  readonly ops: (client: Client) => Partial<Record<TargetId, Op>>
}

/** Settings that let ours run every target: the batch toolset on, pipelines of 1000 allowed, quiet logs. */
export const oursEnv = (redisUrl: string | undefined): Record<string, string> => ({
  ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
  REDIS_MCP_LOG_LEVEL: "warn",
  REDIS_MCP_TOOLSETS: "default,batch",
  REDIS_MCP_PIPELINE_MAX_COMMANDS: "1000"
})

/** "ours 0.1.0" for a dist/ whose package.json (beside it) says 0.1.0; the directory name otherwise. */
export const baselineName = (dist: string): string => {
  const pkg = resolve(dirname(resolve(dist)), "package.json")
  try {
    return `ours ${(JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version}`
  } catch {
    return `ours @ ${dist}`
  }
}

export const node = (args: ReadonlyArray<string>, env: Record<string, string>): Spawn => ({
  command: process.execPath,
  args,
  env
})

const sdkEcho = (sdk: "v1" | "v2") => node([path("bench/servers/sdk-echo.ts"), sdk, "stdio"], {})

export const stdioSystems = (redisUrl: string, baselineDist: string | undefined): Array<StdioSystem> => {
  const ours = requireMain(path("dist"))
  const systems: Array<StdioSystem> = [
    { name: "ours", role: "ours", eras: ERAS, spawn: node([ours], oursEnv(redisUrl)), ops: oursOps }
  ]
  if (baselineDist !== undefined) {
    systems.push({
      name: baselineName(baselineDist),
      role: "baseline",
      eras: ERAS,
      spawn: node([requireMain(baselineDist)], oursEnv(redisUrl)),
      ops: oursOps
    })
  }
  if (!existsSync(REFERENCE_MAIN)) throw new Error(`${REFERENCE_MAIN} is missing: run npm ci`)
  systems.push(
    {
      name: "reference",
      role: "reference",
      eras: ["2025-11-25"],
      spawn: node([REFERENCE_MAIN, redisUrl], {}),
      ops: referenceOps
    },
    {
      name: "ours, in-memory store",
      role: "explains",
      eras: ["2025-11-25"],
      spawn: node([ours], oursEnv(undefined)),
      ops: (client) => {
        const all = oursOps(client)
        return { get: all.get!, get16: all.get16!, set: all.set! }
      },
      seed: (client) => client.call("set", { key: GET_KEY, value: VALUE })
    },
    { name: "SDK v2 echo", role: "ceiling", eras: ERAS, spawn: sdkEcho("v2"), ops: echoOps },
    { name: "SDK v1 echo", role: "explains", eras: ["2025-11-25"], spawn: sdkEcho("v1"), ops: echoOps }
  )
  return systems
}

const oursOverHttp = (
  name: string,
  role: Role,
  dist: string,
  redisUrl: string,
  env: Record<string, string> = {}
): HttpSystem => ({
  name,
  role,
  args: [requireMain(dist), "--transport", "http", "--port", "{port}"],
  env: { ...oursEnv(redisUrl), ...env },
  path: "/mcp",
  ops: oursOps
})

export const httpSystems = (redisUrl: string, baselineDist: string | undefined): Array<HttpSystem> => [
  oursOverHttp("ours", "ours", path("dist"), redisUrl),
  // What the HTTP fast path (src/mcp/HttpFastPath.ts) buys: every request through the SDK's handler.
  oursOverHttp("ours, fast path off", "explains", path("dist"), redisUrl, { REDIS_MCP_FASTPATH: "0" }),
  ...(baselineDist === undefined ? [] : [oursOverHttp(baselineName(baselineDist), "baseline", baselineDist, redisUrl)]),
  {
    name: "SDK v2 echo",
    role: "explains",
    args: [path("bench/servers/sdk-echo.ts"), "v2", "http", "{port}"],
    env: {},
    path: "/mcp",
    ops: echoOps
  },
  {
    name: "node:http echo",
    role: "ceiling",
    args: [path("bench/servers/http-echo.ts"), "{port}"],
    env: {},
    path: "/mcp",
    ops: echoOps
  }
]
