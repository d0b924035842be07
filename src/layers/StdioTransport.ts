/**
 * Serves an MCP server over stdin/stdout until the client goes away: stdin ends,
 * stdout breaks, the transport closes, or the fiber is interrupted (SIGINT/SIGTERM via runMain).
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { Effect } from "effect"

export const serveStdio = (server: Server): Effect.Effect<void> =>
  Effect.acquireUseRelease(
    Effect.gen(function* () {
      const transport = new StdioServerTransport()
      const context = yield* Effect.context<never>()
      const runFork = Effect.runForkWith(context)
      // A malformed line is reported here and skipped; the server keeps serving.
      server.onerror = (error) => {
        runFork(Effect.logWarning("mcp transport error", { error: error.message }))
      }
      yield* Effect.promise(() => server.connect(transport))
      yield* Effect.logInfo("mcp server listening on stdio")
      return transport
    }),
    () =>
      Effect.callback<void>((resume) => {
        const done = () => resume(Effect.void)
        process.stdin.once("end", done)
        process.stdin.once("close", done)
        // The client closed our stdout (EPIPE): it is gone, so shut down instead of crashing.
        process.stdout.on("error", done)
        server.onclose = done
        return Effect.sync(() => {
          process.stdin.off("end", done)
          process.stdin.off("close", done)
        })
      }),
    () =>
      Effect.promise(() => server.close().catch(() => undefined)).pipe(
        Effect.andThen(Effect.logInfo("mcp server closed"))
      )
  )
