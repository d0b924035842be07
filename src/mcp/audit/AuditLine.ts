/**
 * One audit event as one JSON line (SERVICE.md "Audit log"). The line is built field by field
 * from an explicit allow-list: whatever else the caller's object carries (arguments, values,
 * payloads, tokens, error messages) is never read, so it can never be written. Every string is
 * bounded, and so is every name list.
 */

/** What happened: a write call ran, a call was refused before it ran, or credentials were refused. */
export type AuditEventKind = "call" | "denied" | "auth_failure"

/**
 * Why a call was refused (a closed set):
 * - `role`: the tool is not among the session role's tools
 * - `read_only`: a write on a read-only server or role
 * - `deny_list`: a raw command on the server's command deny list
 * - `key_pattern`: a key, channel, queue or namespace outside the role's patterns (also a whole-server
 *   read, or a raw command whose keys cannot be named, for a role that lists keys, queues or namespaces)
 * - `limits`: a per-principal limit (calls in flight, subscriptions)
 * - `permission`: any other `PermissionDenied`: the key prefix (a raw command whose keys cannot all be
 *   kept under it), the server's reserved keys and channels, or Redis's own ACL (`NOPERM`)
 */
export const DENIED_REASONS = ["role", "read_only", "deny_list", "key_pattern", "limits", "permission"] as const
export type DeniedReason = (typeof DENIED_REASONS)[number]

/** What a caller hands to `Audit.record`. Only these fields are ever read. */
export interface AuditEvent {
  readonly event: AuditEventKind
  /** Who: `token:<name>`, `oauth:<sub>`, `stdio`… Absent for an auth failure (nobody was authenticated). */
  readonly principal?: string | undefined
  readonly role?: string | undefined
  readonly tool?: string | undefined
  /** Logical key names (before the key prefix), as the tool declares them. */
  readonly keys?: ReadonlyArray<string> | undefined
  readonly channels?: ReadonlyArray<string> | undefined
  readonly queues?: ReadonlyArray<string> | undefined
  readonly namespaces?: ReadonlyArray<string> | undefined
  /** `ok`, the error tag of the result, or for an auth failure `refused`. Never an error message. */
  readonly outcome: string
  readonly durationMs?: number | undefined
  /** The JSON-RPC request id. */
  readonly requestId?: string | number | null | undefined
  /** `denied`: a `DeniedReason`; `auth_failure`: the `AuthFailure` reason (`unknown_token`, `expired`, …). */
  readonly reason?: string | undefined
  /** How the principal authenticated: `token`, `oauth`, or none (stdio). */
  readonly method?: string | undefined
  /** The client's address (HTTP), for tracing auth-failure bursts. */
  readonly remoteAddress?: string | undefined
}

/** Bounds: a hostile call cannot make one line large. */
export const MAX_NAMES = 20
export const MAX_NAME_CHARS = 200
const MAX_FIELD_CHARS = 256
const MAX_TAG_CHARS = 64

/** `s` cut to `max` UTF-16 units (never inside a surrogate pair), with `…` when cut. */
export const bounded = (s: string, max: number): string => {
  if (s.length <= max) return s
  let end = max
  const last = s.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${s.slice(0, end)}…`
}

const text = (v: unknown, max: number): string | null => (typeof v === "string" ? bounded(v, max) : null)

const names = (v: unknown): { readonly list: Array<string>; readonly total: number } | undefined => {
  if (!Array.isArray(v)) return undefined
  const list: Array<string> = []
  for (let i = 0; i < v.length && list.length < MAX_NAMES; i++) {
    const n = v[i]
    if (typeof n === "string") list.push(bounded(n, MAX_NAME_CHARS))
  }
  return { list, total: v.length }
}

const requestIdOf = (v: unknown): string | number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" ? bounded(v, 128) : null

/** Context every line of one server carries. */
export interface LineContext {
  readonly transport: "stdio" | "http"
  /** The server's key prefix ("" for none): a key's Redis name is `keyPrefix + key`. */
  readonly keyPrefix: string
}

/**
 * The line (without its newline). The nine fields of the contract come first and are always
 * present (`null` when they do not apply); the rest only when given.
 */
export const toLine = (event: AuditEvent, timeMillis: number, context: LineContext): string => {
  const keys = names(event.keys)
  const line: Record<string, unknown> = {
    time: new Date(timeMillis).toISOString(),
    event: event.event === "denied" || event.event === "auth_failure" ? event.event : "call",
    principal: text(event.principal, MAX_FIELD_CHARS),
    role: text(event.role, MAX_FIELD_CHARS),
    tool: text(event.tool, 128),
    keys: keys?.list ?? [],
    outcome: text(event.outcome, MAX_TAG_CHARS) ?? "unknown",
    durationMs:
      typeof event.durationMs === "number" && Number.isFinite(event.durationMs)
        ? Math.round(event.durationMs * 1000) / 1000
        : null,
    requestId: requestIdOf(event.requestId)
  }
  if (keys !== undefined && keys.total > keys.list.length) line.keysTotal = keys.total
  for (const kind of ["channels", "queues", "namespaces"] as const) {
    const list = names(event[kind])
    if (list === undefined || list.total === 0) continue
    line[kind] = list.list
    if (list.total > list.list.length) line[`${kind}Total`] = list.total
  }
  const reason = text(event.reason, MAX_TAG_CHARS)
  if (reason !== null) line.reason = reason
  const method = text(event.method, 16)
  if (method !== null) line.method = method
  const remote = text(event.remoteAddress, 64)
  if (remote !== null) line.remoteAddress = remote
  line.transport = context.transport
  if (context.keyPrefix !== "" && (line.keys as Array<string>).length > 0) {
    line.keyPrefix = bounded(context.keyPrefix, MAX_NAME_CHARS)
  }
  return JSON.stringify(line)
}
