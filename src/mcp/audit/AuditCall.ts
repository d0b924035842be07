/**
 * The audit around one tool call at the edge: the call's keys from its decoded input (the tool's
 * `touches`), its outcome and duration when it ends — cancelled calls included — recorded as
 * AuditEvents.ts decides (writes, refusals). Nothing is done when the audit is off.
 */
import { Cause, Clock, Effect, Exit } from "effect"
import type { AnyTool, Touches } from "../../tools/Tool.ts"
import type { CallOutcome } from "../Envelope.ts"
import type { AuditShape } from "./Audit.ts"
import { callEvent } from "./AuditEvents.ts"
import type { DeniedReason } from "./AuditLine.ts"

/** Who is calling: `stdio` for the local client, `token:<name>` / `oauth:<sub>` over HTTP. */
export interface Caller {
  readonly principal: string
  readonly role?: string | undefined
  readonly method?: string | undefined
}

export interface AuditedCall {
  readonly tool: Pick<AnyTool, "name" | "touches">
  /** The tool's read-only hint as this session lists it. */
  readonly readOnly: boolean
  readonly caller: Caller
  readonly requestId: string | number
}

/** What `touches` gives for a decoded input; nothing when it throws (a tool's bug must not fail the call). */
const touchesOf = (tool: AuditedCall["tool"], input: unknown): Touches | undefined => {
  try {
    return tool.touches(input)
  } catch {
    return undefined
  }
}

/**
 * `run(decoded)` is the call, given the hook that sees its decoded input; the result is the same
 * call, recorded when it ends.
 */
export const audited = <E, R>(
  audit: AuditShape,
  call: AuditedCall,
  run: (decoded: ((input: unknown) => void) | undefined) => Effect.Effect<CallOutcome, E, R>
): Effect.Effect<CallOutcome, E, R> => {
  if (!audit.enabled) return run(undefined)
  let touches: Touches | undefined
  return Effect.flatMap(Clock.currentTimeNanos, (start) =>
    run((input) => {
      touches = touchesOf(call.tool, input)
    }).pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(Clock.currentTimeNanos, (end) => {
          const outcome = Exit.isSuccess(exit)
            ? exit.value._tag === "Success"
              ? "ok"
              : exit.value.error.tag
            : Cause.hasInterrupts(exit.cause)
              ? "Cancelled"
              : "Internal"
          const error = Exit.isSuccess(exit) && exit.value._tag === "Failure" ? exit.value.error : undefined
          const event = callEvent({
            tool: call.tool.name,
            readOnly: call.readOnly,
            touches,
            principal: call.caller.principal,
            role: call.caller.role,
            method: call.caller.method,
            outcome,
            rule: error?.reason,
            durationMs: Number(end - start) / 1e6,
            requestId: call.requestId
          })
          return event === undefined ? Effect.void : audit.record(event)
        })
      )
    )
  )
}

/** A call the edge refused before it ran (a tool outside the session's role, a limit…). */
export const recordRefusal = (
  audit: AuditShape,
  call: Omit<AuditedCall, "readOnly"> & { readonly reason: DeniedReason; readonly outcome: string }
): Effect.Effect<void> =>
  audit.enabled
    ? audit.record({
        event: "denied",
        principal: call.caller.principal,
        role: call.caller.role,
        method: call.caller.method,
        tool: call.tool.name,
        outcome: call.outcome,
        durationMs: 0,
        requestId: call.requestId,
        reason: call.reason
      })
    : Effect.void
