/**
 * Per-call access: whether the call in progress may write. The MCP edge sets it
 * around each call from the server's read-only setting (and, with roles, the
 * session's); an app embedding the services leaves it at its default, false.
 */
import { Context } from "effect"

/** True when the current call must not write (`ReadOnlyMode` for anything that would). */
export const ReadOnly = Context.Reference<boolean>("effect-redis-mcp/ReadOnly", { defaultValue: () => false })
