/**
 * W3C trace context from a request's `_meta` (`traceparent`, the 2026-07-28
 * spec's key): the call's span becomes a child of the caller's span, so traces
 * cross the MCP boundary.
 */
import { Effect, Tracer } from "effect"

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The caller's span named by a `traceparent` value; undefined when absent or malformed (never an error). */
export const parentSpan = (meta: Readonly<Record<string, unknown>> | undefined): Tracer.ExternalSpan | undefined => {
  const value = meta?.traceparent
  if (typeof value !== "string") return undefined
  const m = TRACEPARENT.exec(value.trim().toLowerCase())
  if (m === null || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined
  return Tracer.externalSpan({ traceId: m[2]!, spanId: m[3]!, sampled: (Number.parseInt(m[4]!, 16) & 1) === 1 })
}

/** Run `effect` as a child of the caller's span, when the request carried one. */
export const withCallerSpan =
  (meta: Readonly<Record<string, unknown>> | undefined) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const parent = parentSpan(meta)
    return parent === undefined ? effect : Effect.withParentSpan(effect, parent)
  }
