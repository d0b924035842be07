/**
 * The longest times a tool may ask for. Each is documented and enforced by the
 * tool's input schema and again by its service (for embedding apps).
 */
import type { Effect } from "effect"
import { InvalidArgument, orVoid } from "../Errors.ts"

/** Longest `ttlSeconds` of a key or a state document: 10 years (365-day years). */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600

/** Longest `ttlSeconds` of a lock: 1 day. A lock is held for a task; renew it for longer work. */
export const MAX_LOCK_TTL_SECONDS = 24 * 3600

/** Why a TTL is refused (it must be absent, or a whole number of seconds from 1 to `max`), or undefined. */
export const ttlProblem = (
  ttl: number | undefined,
  max: number = MAX_TTL_SECONDS,
  name = "ttlSeconds"
): InvalidArgument | undefined =>
  ttl === undefined || (Number.isSafeInteger(ttl) && ttl >= 1 && ttl <= max)
    ? undefined
    : new InvalidArgument({ message: `${name} must be a whole number of seconds from 1 to ${max}; got ${ttl}.` })

/** `ttl` is absent, or a whole number of seconds from 1 to `max`. */
export const checkTtlSeconds = (
  ttl: number | undefined,
  max: number = MAX_TTL_SECONDS,
  name = "ttlSeconds"
): Effect.Effect<void, InvalidArgument> => orVoid(ttlProblem(ttl, max, name))
