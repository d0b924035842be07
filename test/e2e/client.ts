/**
 * Drive the built server (dist/main.js) over stdio with the SDK Client, as an MCP
 * client would. `npm test` builds first.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

export interface ServerUnderTest {
  readonly client: Client
  readonly transport: StdioClientTransport
  /** Lines the server wrote to stderr. */
  readonly stderr: Array<string>
  /** Call a tool; returns the parsed structuredContent, or the error envelope when isError. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallResult>
  readonly close: () => Promise<void>
}

export type CallResult =
  | { readonly ok: true; readonly value: any }
  | { readonly ok: false; readonly error: { tag: string; message: string; retryable: boolean; [k: string]: unknown } }

/** Spawn the built server with the given environment (on top of PATH and HOME only) and CLI args. */
export const startServer = async (
  env: Record<string, string> = {},
  args: ReadonlyArray<string> = []
): Promise<ServerUnderTest> => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`)
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, ...args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", REDIS_MCP_LOG_LEVEL: "info", ...env },
    stderr: "pipe"
  })
  const stderr: Array<string> = []
  transport.stderr?.on("data", (chunk: Buffer) =>
    stderr.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
    )
  )
  const client = new Client({ name: "e2e", version: "1.0.0" })
  await client.connect(transport)
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallResult> => {
    const result = await client.callTool({ name, arguments: args })
    if (result.isError === true) {
      const content = result.content as Array<{ type: string; text: string }>
      return { ok: false, error: JSON.parse(content[0]!.text).error }
    }
    return { ok: true, value: result.structuredContent }
  }
  return { client, transport, stderr, call, close: () => client.close() }
}
