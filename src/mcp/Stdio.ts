/**
 * MCP over stdin/stdout with the SDK's `serveStdio`, which serves both protocol
 * eras on one connection: 2026-07-28 (`server/discover`, a `_meta` envelope on
 * every request) and the 2025 revisions (`initialize`). It runs until the
 * client goes away (stdin ends, stdout breaks) or the layer's scope closes
 * (SIGINT/SIGTERM via runMain). With REDIS_MCP_ROLE, the session runs as that
 * role of the auth file, read at start, for the life of the process. Plain
 * `tools/call` requests are answered by the fast path (StdioFastPath.ts) unless
 * REDIS_MCP_FASTPATH=0.
 */
import { serveStdio } from "@modelcontextprotocol/server/stdio"
import { Deferred, Effect, Layer } from "effect"
import { AuthStore } from "./auth/AuthStore.ts"
import { ListenAwareTransport } from "./Listen.ts"
import { McpEdge } from "./Server.ts"
import { McpConfig } from "./Settings.ts"
import { StdioFastPath } from "./StdioFastPath.ts"
import { StdioWire } from "./StdioWire.ts"
import { McpTransport } from "./Transport.ts"

export const layer = Layer.effect(
  McpTransport,
  Effect.gen(function* () {
    const edge = yield* McpEdge
    const closed = yield* Deferred.make<void>()
    const runFork = Effect.runForkWith(yield* Effect.context<never>())
    const view = edge.surface(yield* (yield* AuthStore).sessionRole)
    const session = edge.session(view)
    // The wire: newline-delimited JSON-RPC on stdin/stdout, with a line limit, JSON-RPC errors for bad
    // lines, and a drain of the calls in flight when stdin ends (StdioWire.ts).
    const wire = yield* StdioWire.make()
    const listenAware = new ListenAwareTransport(wire, {
      listen: (id, uris) => edge.run(session.listen(id, uris)),
      cancel: session.cancel,
      closed: () => {
        session.close()
        Deferred.doneUnsafe(closed, Effect.void)
      }
    })
    // Above the listen decorator: a call waits behind a listen being set up, as for the SDK.
    const fastPath = (yield* McpConfig).fastPath
      ? new StdioFastPath(listenAware, {
          tools: view.tools,
          call: edge.call(view, {}),
          answer: (id, text) => wire.answer(id, text)
        })
      : undefined
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        serveStdio((ctx) => edge.server(ctx, view, { session, requireInitialize: true }), {
          transport: fastPath ?? listenAware,
          onerror: (error) =>
            runFork(
              // The client closed our stdout: it is gone, and the wire closes (not a fault of ours).
              (error as NodeJS.ErrnoException).code === "EPIPE"
                ? Effect.logDebug("the client closed stdout", { error: error.message })
                : Effect.logWarning("mcp transport error", { error: error.message })
            )
        })
      ),
      (handle) =>
        Effect.promise(() => handle.close().catch(() => undefined)).pipe(
          Effect.andThen(
            Effect.logInfo("mcp server closed", fastPath === undefined ? {} : { fastPathCalls: fastPath.callsTaken })
          )
        )
    )
    yield* Effect.logInfo("mcp server listening on stdio")
    return McpTransport.of({ closed: Deferred.await(closed) })
  })
)
