/**
 * A running transport, as the edge's entry point sees it: stdio (Stdio.ts) or
 * Streamable HTTP (Http.ts).
 */
import { Context, type Effect } from "effect"

/** `closed` completes when the client went away (stdio); it never does for a long-running service. */
export class McpTransport extends Context.Service<McpTransport, { readonly closed: Effect.Effect<void> }>()(
  "effect-redis-mcp/McpTransport"
) {}
