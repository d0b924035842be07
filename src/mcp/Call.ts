/**
 * The one path of a `tools/call`, whichever way it arrived (the SDK's handler,
 * or a transport's own fast path): the session's role checks, the principal's
 * limits, the audit, the call's span under the caller's trace parent, and
 * cancellation interrupting its fiber, the call's metrics (one count and one
 * duration per call, by tool and outcome). Anything that hooks calls hooks this.
 *
 * The runtime is built once, and what can be decided per process or per session
 * is decided then, not per call: the session's read-only mode is in the context
 * its fibers start with; the audit and the limits wrap a call only when they are
 * on. A call gets a span (child of the request's `traceparent`) when something can
 * see it: a tracer other than Effect's in-memory one, or the debug log, whose
 * "tool call" line names the trace. Otherwise a call is one fiber running the
 * tool, and nothing else.
 */
import { Context, Effect, type Exit, type Fiber, LogLevel, References, Tracer } from "effect"
import { Caller as CallerRef, type CallerShape, ReadOnly } from "../services/Access.ts"
import type { Services } from "../services/Stack.ts"
import type { AuditShape } from "./audit/Audit.ts"
import { audited, type Caller } from "./audit/AuditCall.ts"
import type { PrincipalLimitsShape } from "./auth/PrincipalLimits.ts"
import type { CallMetrics } from "./CallMetrics.ts"
import { type CallOutcome, cancelled, envelope } from "./Envelope.ts"
import { type CallCheck, callTool, type ToolEntry } from "./Registry.ts"
import type { Surface } from "./Surface.ts"
import { withCallerSpan } from "./Trace.ts"

/** A `tools/call` as a transport hands it to the edge. */
export interface CallRequest {
  /** The JSON-RPC id (for the audit). */
  readonly id: string | number
  /** The request's `_meta`: a `traceparent` there parents the call's span. */
  readonly meta: Readonly<Record<string, unknown>> | undefined
}

/** A call started on the edge. */
export interface RunningCall {
  /** What to answer; never rejects (an interrupted call is a Cancelled outcome). */
  readonly outcome: Promise<CallOutcome>
  /** The client cancelled the request or went away: interrupts the call's fiber (logged as cancelled). */
  readonly cancel: () => void
}

/** One session's call path: starts `entry` with `args`. */
export type SessionCall = (entry: ToolEntry<Services>, args: unknown, request: CallRequest) => RunningCall

/** Who a session's calls run for (InstanceOptions in Server.ts). */
export interface CallFor {
  readonly principal?: string | undefined
  readonly method?: string | undefined
}

export interface CallDeps {
  readonly context: Context.Context<Services>
  readonly audit: AuditShape
  readonly principalLimits: PrincipalLimitsShape
  readonly maxOutputBytes: number
  /** The role's check of a call's input (undefined: no role, nothing to check). */
  readonly checkOf: (view: Surface<Services>) => CallCheck<Services> | undefined
  /** Every call's count and duration by tool and outcome (`ok` or the error tag). */
  readonly metrics: CallMetrics
}

const CANCELLED: CallOutcome = { _tag: "Failure", error: cancelled }

/** Ends a request with `cancel` when its signal aborts (the SDK's `ctx.mcpReq.signal`). */
export const cancelOnAbort = (signal: AbortSignal, running: RunningCall): void => {
  if (signal.aborted) running.cancel()
  else signal.addEventListener("abort", running.cancel, { once: true })
}

/** The call paths of the edge: `forSession(view, who)` is made once per connection (stdio) or request (HTTP). */
export const makeCalls = (deps: CallDeps) => {
  const { audit, principalLimits, maxOutputBytes, metrics } = deps
  const runWritable = Effect.runForkWith(Context.add(deps.context, ReadOnly, false))
  const runReadOnly = Effect.runForkWith(Context.add(deps.context, ReadOnly, true))
  const runFork = Effect.runForkWith(deps.context)
  // The span ids of the debug line are random hex made on first read: read them only when it is written.
  const debug = LogLevel.isGreaterThanOrEqualTo("Debug", Context.get(deps.context, References.MinimumLogLevel))
  const spans = debug || Context.get(deps.context, Tracer.Tracer) !== Tracer.nativeTracer

  const logCancelled = (tool: string) => runFork(Effect.logInfo("tool call cancelled", { tool }))

  const start = (
    run: (effect: Effect.Effect<CallOutcome, never, Services>) => Fiber.Fiber<CallOutcome>,
    program: Effect.Effect<CallOutcome, never, Services>,
    tool: string
  ): RunningCall => {
    const startedAt = metrics.start()
    const fiber = run(program)
    let cancelledByClient = false
    const outcome = new Promise<CallOutcome>((resolve) => {
      fiber.addObserver((exit: Exit.Exit<CallOutcome>) => {
        if (exit._tag === "Success") {
          const value = exit.value
          metrics.toolCall(tool, value._tag === "Success" ? "ok" : value.error.tag, startedAt)
          return resolve(value)
        }
        if (cancelledByClient) logCancelled(tool)
        metrics.toolCall(tool, cancelled.tag, startedAt)
        resolve(CANCELLED)
      })
    })
    return {
      outcome,
      cancel: () => {
        cancelledByClient = true
        fiber.interruptUnsafe()
      }
    }
  }

  const traced = (
    program: Effect.Effect<CallOutcome, never, Services>,
    tool: string,
    request: CallRequest
  ): Effect.Effect<CallOutcome, never, Services> => {
    const logged = debug
      ? Effect.andThen(
          Effect.flatMap(Effect.currentSpan, (span) =>
            Effect.logDebug("tool call", { tool, traceId: span.traceId, spanId: span.spanId })
          ).pipe(Effect.ignore),
          program
        )
      : program
    // Data-first: effect 4.1's data-last withSpan ignores captureStackTrace, and the span's place in
    // our code is always this line (a stack trace per call would buy nothing).
    return withCallerSpan(request.meta)(Effect.withSpan(logged, `tool ${tool}`, { captureStackTrace: false }))
  }

  const forSession = (view: Surface<Services>, who: CallFor): SessionCall => {
    const run = view.readOnly ? runReadOnly : runWritable
    const check = deps.checkOf(view)
    const caller: Caller = { principal: who.principal ?? "stdio", role: view.role?.name, method: who.method }
    const callerService: CallerShape | undefined =
      who.principal === undefined
        ? undefined
        : { principal: who.principal, acquireSubscription: principalLimits.acquireSubscription(who.principal) }
    const plain = !audit.enabled && callerService === undefined

    return (entry, args, request) => {
      const tool = entry.tool.name
      const call = (decoded: ((input: unknown) => void) | undefined) =>
        callTool(entry.tool, entry.codecs, args, maxOutputBytes, decoded, check)
      let program: Effect.Effect<CallOutcome, never, Services>
      if (plain) program = call(undefined)
      else {
        // An authenticated principal's calls count against its own maximum in flight, and what they
        // open (subscriptions) is its own.
        const limited = (decoded: ((input: unknown) => void) | undefined) =>
          callerService === undefined
            ? call(decoded)
            : principalLimits.call(callerService.principal, call(decoded)).pipe(
                Effect.catchTag("LimitExceeded", (e) =>
                  Effect.succeed<CallOutcome>({ _tag: "Failure", error: envelope(e) })
                ),
                Effect.provideService(CallerRef, callerService)
              )
        const listed = view.readOnly ? entry.listedReadOnly : entry.listed
        const auditedCall = {
          tool: entry.tool,
          readOnly: listed.annotations.readOnlyHint,
          caller,
          requestId: request.id
        }
        program = audited(audit, auditedCall, limited)
      }
      return start(run, spans ? traced(program, tool, request) : program, tool)
    }
  }

  return { forSession }
}
