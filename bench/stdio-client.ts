/**
 * Drive an MCP server over stdio as a client of either protocol era: the v1
 * SDK `Client` (2025-11-25) or the v2 `Client` pinned to 2026-07-28. A server
 * that does not speak the pinned revision is reported as `Unavailable`, not
 * as a failure.
 */
import { Client as ClientV2 } from "@modelcontextprotocol/client"
import { StdioClientTransport as StdioV2 } from "@modelcontextprotocol/client/stdio"
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport as StdioV1 } from "@modelcontextprotocol/sdk/client/stdio.js"
import { rssMiB, StderrTail, withTimeout } from "./processes.ts"
import { type Client, unprepared } from "./workloads.ts"

export const ERAS = ["2025-11-25", "2026-07-28"] as const
export type Era = (typeof ERAS)[number]

/** How to start a server: a command line and its environment (on top of PATH and HOME). */
export interface Spawn {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env: Record<string, string>
}

/** The server cannot be measured in this era (or at all); `reason` goes in the table instead of numbers. */
export class Unavailable extends Error {}

/** A live server over stdio; its calls throw when the result is an error (isError or a JSON-RPC error). */
export interface Session extends Client {
  readonly pid: number
  readonly listTools: () => Promise<ReadonlyArray<string>>
  /** VmRSS of the server process now. */
  readonly rssMiB: () => number | undefined
  readonly close: () => Promise<void>
}

interface AnyClient {
  connect(transport: unknown): Promise<void>
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>
  listTools(): Promise<{ tools: Array<{ name: string }> }>
  close(): Promise<void>
}

const CONNECT_TIMEOUT_MS = 30_000

const makeClient = (era: Era): AnyClient =>
  (era === "2025-11-25"
    ? new ClientV1({ name: "bench", version: "1.0.0" })
    : new ClientV2(
        { name: "bench", version: "1.0.0" },
        { versionNegotiation: { mode: { pin: "2026-07-28" } } }
      )) as unknown as AnyClient

const checked = (result: unknown): unknown => {
  const r = result as { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: unknown }
  if (r.isError === true) throw new Error(`tool error: ${r.content?.[0]?.text ?? "(no text)"}`)
  return r.structuredContent ?? r.content
}

/** Spawn the server and open a session in `era`. */
export const connectStdio = async (spawn: Spawn, era: Era): Promise<Session> => {
  const params = {
    command: spawn.command,
    args: [...spawn.args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...spawn.env },
    stderr: "pipe" as const
  }
  const transport = era === "2025-11-25" ? new StdioV1(params) : new StdioV2(params)
  const stderr = new StderrTail(transport.stderr)
  const client = makeClient(era)
  try {
    await withTimeout(client.connect(transport), CONNECT_TIMEOUT_MS, "connect")
  } catch (e) {
    await client.close().catch(() => undefined)
    const message = e instanceof Error ? e.message : String(e)
    if (era === "2026-07-28" && /negotiation|pinned|protocol version/i.test(message))
      throw new Unavailable("server does not speak 2026-07-28")
    throw new Unavailable(`could not connect: ${message}${stderr.describe()}`)
  }
  const pid = transport.pid
  if (pid === null) throw new Unavailable("the server process has no pid")
  return {
    pid,
    ...unprepared(async (name, args) => checked(await client.callTool({ name, arguments: args }))),
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    rssMiB: () => rssMiB(pid),
    close: () => client.close()
  }
}
