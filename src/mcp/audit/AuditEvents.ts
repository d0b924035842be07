/**
 * Which calls the audit records, and their events, so every caller (the registry, the HTTP
 * bearer gate) builds them the same way: every write call (whatever its outcome), every
 * refused call, every refused credential. Reads that ran are not audited.
 */
import type { Touches } from "../../tools/Tool.ts"
import type { AuthFailureReason } from "../auth/AuthErrors.ts"
import type { AuditEvent, DeniedReason } from "./AuditLine.ts"

/** What a finished call looked like, as the edge knows it. Arguments are deliberately absent. */
export interface FinishedCall {
  readonly tool: string
  /** The tool's hints as this session sees them (read-only servers list some tools with read hints). */
  readonly readOnly: boolean
  /** The logical names the call declared (its `touches`). */
  readonly touches?: Touches | undefined
  readonly principal?: string | undefined
  readonly role?: string | undefined
  readonly method?: string | undefined
  /** `ok` or the error tag of the result. */
  readonly outcome: string
  /** The error's `reason`, when a `PermissionDenied` names the rule that refused (`key_pattern`, `deny_list`). */
  readonly rule?: unknown
  readonly durationMs: number
  readonly requestId?: string | number | null | undefined
  /** Set when the edge refused the call itself before its handler ran (role, read-only, key pattern, limits). */
  readonly refusedBy?: DeniedReason | undefined
}

/**
 * Why a handler's error counts as a refusal. A `PermissionDenied` names its rule when it was a
 * role's patterns (`key_pattern`) or the command deny list (`deny_list`); any other (the key
 * prefix, the server's reserved names, Redis's own ACL) is reported as `permission`.
 */
export const deniedReasonOf = (outcome: string, rule?: unknown): DeniedReason | undefined => {
  switch (outcome) {
    case "ReadOnlyMode":
      return "read_only"
    case "LimitExceeded":
      return "limits"
    case "PermissionDenied":
      return rule === "key_pattern" || rule === "deny_list" ? rule : "permission"
    default:
      return undefined
  }
}

/** The event for a finished call, or undefined when it is not audited (a read that ran). */
export const callEvent = (call: FinishedCall): AuditEvent | undefined => {
  const reason = call.refusedBy ?? deniedReasonOf(call.outcome, call.rule)
  if (reason === undefined && call.readOnly) return undefined
  return {
    event: reason === undefined ? "call" : "denied",
    principal: call.principal,
    role: call.role,
    method: call.method,
    tool: call.tool,
    keys: call.touches?.keys,
    channels: call.touches?.channels,
    queues: call.touches?.queues,
    namespaces: call.touches?.namespaces,
    outcome: call.outcome,
    durationMs: call.durationMs,
    requestId: call.requestId,
    reason
  }
}

/** The event for refused credentials: only the bounded reason, never the token or the message. */
export const authFailureEvent = (
  failure: { readonly reason: AuthFailureReason },
  extra: { readonly remoteAddress?: string | undefined; readonly requestId?: string | number | null } = {}
): AuditEvent => ({
  event: "auth_failure",
  outcome: "refused",
  reason: failure.reason,
  remoteAddress: extra.remoteAddress,
  requestId: extra.requestId
})
