/**
 * The MCP edge: an SDK low-level `Server` whose `tools/list` and `tools/call` are
 * served from the registry, each call running as a fiber on the layer's services
 * (a cancelled request interrupts its fiber). Resources and prompts come from the
 * features' providers, dispatched by `serveExtensions` (Resources.ts).
 */
import { readFileSync } from "node:fs"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError
} from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import { ServerConfig } from "../layers/Config.ts"
import { type CallOutcome, callTool, codecs, enabledTools, listEntry } from "./Registry.ts"
import { type ServerExtension, serveExtensions } from "./Resources.ts"
import type { AnyTool } from "./Tool.ts"

/** The package version, read once from package.json (one level above src/ and dist/). */
export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string
  } catch {
    return "0.0.0"
  }
})()

export const INSTRUCTIONS =
  "Redis access for agents. Tools return structured JSON; failures come back with isError and a JSON " +
  "envelope {error:{tag,message,retryable}} whose message says what to do. Keys are UTF-8 strings; " +
  'binary values come back base64 with encoding:"base64". Large results are capped and carry a cursor. ' +
  "Use the task_* tools to hand work between agents and state_* tools to share versioned state."

export const toResult = (outcome: CallOutcome): CallToolResult =>
  outcome._tag === "Success"
    ? { content: [{ type: "text", text: JSON.stringify(outcome.value) }], structuredContent: outcome.value }
    : { isError: true, content: [{ type: "text", text: JSON.stringify({ error: outcome.error }) }] }

/** Build the MCP server for the given tools on the current services. */
export const makeMcpServer = Effect.fnUntraced(function* <R>(
  tools: ReadonlyArray<AnyTool<R>>,
  extensions: ReadonlyArray<ServerExtension<R>> = []
) {
  const settings = yield* ServerConfig
  const context = yield* Effect.context<R>()
  const enabled = enabledTools(tools, settings)
  const byName = new Map(enabled.map((t) => [t.name, { tool: t, codecs: codecs(t) }]))
  const listed = enabled.map(listEntry)
  const runPromise = Effect.runPromiseWith(context)
  const provided = yield* Effect.all(extensions)

  const server = new Server(
    { name: "effect-redis-mcp", title: "Redis (effect-redis-mcp)", version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, logging: {} },
      instructions: INSTRUCTIONS
    }
  )
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }))
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const entry = byName.get(request.params.name)
    if (entry === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool: ${request.params.name}. Call tools/list to see the tools this server offers.`
      )
    }
    const tool = entry.tool.name
    const outcome = await runPromise(
      Effect.logDebug("tool call", { tool }).pipe(
        Effect.andThen(callTool(entry.tool, entry.codecs, request.params.arguments, settings.limits.maxOutputBytes)),
        // The client cancelled (notifications/cancelled) or went away: the fiber is interrupted, say so.
        Effect.onInterrupt(() => Effect.logInfo("tool call cancelled", { tool })),
        Effect.withSpan(`tool ${tool}`)
      ),
      { signal: extra.signal }
    ).catch(
      (): CallOutcome => ({
        _tag: "Failure",
        error: { tag: "Cancelled", message: "The call was cancelled before it finished.", retryable: true }
      })
    )
    return toResult(outcome)
  })
  serveExtensions(server, provided, (effect, signal) => runPromise(effect, signal ? { signal } : undefined))
  return server
})
