/**
 * One connection's resource subscriptions, whichever era asked for them: a
 * 2025 client's `resources/subscribe` / `resources/unsubscribe`, or a 2026
 * client's `subscriptions/listen` streams (seen on the way in, see Listen.ts).
 * Each URI is watched once on the shared hub however many times it was asked
 * for, and every update goes out once, through the connection's server. With a
 * role, only the queues and namespaces it may touch can be watched.
 */
import { Effect } from "effect"
import type { AppError } from "../Errors.ts"
import type { ResourceDef } from "../tools/Feature.ts"
import type { Role } from "./auth/Role.ts"
import type { ChangeHub, Sink } from "./Changes.ts"
import { checkResource } from "./Resources.ts"

type Id = string | number

export interface Session<R> {
  /** Where updates go: the connection's server (set when the factory makes it). */
  readonly attach: (notify: (uri: string) => void) => void
  /** `resources/subscribe`: false when no subscribable family of this session owns the URI; PermissionDenied outside the role. */
  readonly subscribe: (uri: string) => Effect.Effect<boolean, AppError, R>
  /** `resources/unsubscribe`. */
  readonly unsubscribe: (uri: string) => Effect.Effect<void, never, R>
  /** A `subscriptions/listen` opened with these resource URIs (others' and malformed ones are ignored). */
  readonly listen: (id: Id, uris: ReadonlyArray<string>) => Effect.Effect<void, never, R>
  /** The listen stream `id` was cancelled. */
  readonly cancel: (id: Id) => void
  /** The connection is gone: stop watching everything. */
  readonly close: () => void
}

export const makeSession = <R>(hub: ChangeHub<R>, families: ReadonlyArray<ResourceDef<R>>, role?: Role): Session<R> => {
  const subscribable = families.filter((d) => d.changes !== undefined)
  let target: ((uri: string) => void) | undefined
  const sink: Sink = { notify: (uri) => target?.(uri) }
  /** client URI → how many asked for it (a 2025 subscribe counts once), and where it is watched. */
  const interest = new Map<string, { count: number; def: ResourceDef<R>; canonical: string }>()
  const subscribed = new Set<string>()
  const listens = new Map<Id, ReadonlyArray<string>>()

  const resolve = (uri: string) =>
    Effect.gen(function* () {
      for (const def of subscribable) {
        const canonical = yield* def.canonical(uri)
        if (canonical !== undefined) return { def, canonical }
      }
      return undefined
    })

  /** Adds one interest in `uri`; false when it is not a subscribable URI of this session. */
  const add = (uri: string) =>
    Effect.gen(function* () {
      const known = interest.get(uri)
      if (known !== undefined) {
        known.count += 1
        return true
      }
      const owner = yield* resolve(uri)
      if (owner === undefined) return false
      yield* checkResource(owner.def, role, uri)
      interest.set(uri, { count: 1, ...owner })
      yield* hub.watch(owner.def, owner.canonical, uri, sink)
      return true
    })

  const drop = (uri: string) => {
    const known = interest.get(uri)
    if (known === undefined) return
    known.count -= 1
    if (known.count > 0) return
    interest.delete(uri)
    hub.unwatch(known.def, known.canonical, uri, sink)
  }

  return {
    attach: (notify) => {
      target = notify
    },
    subscribe: (uri) =>
      subscribed.has(uri)
        ? Effect.succeed(true)
        : Effect.tap(add(uri), (ok) => Effect.sync(() => ok && subscribed.add(uri))),
    unsubscribe: (uri) =>
      Effect.sync(() => {
        if (subscribed.delete(uri)) drop(uri)
      }),
    listen: (id, uris) =>
      Effect.gen(function* () {
        const taken: Array<string> = []
        for (const uri of new Set(uris)) {
          const ok = yield* add(uri).pipe(Effect.orElseSucceed(() => false))
          if (ok) taken.push(uri)
        }
        listens.set(id, taken)
      }),
    cancel: (id) => {
      for (const uri of listens.get(id) ?? []) drop(uri)
      listens.delete(id)
    },
    close: () => {
      for (const [uri, known] of interest) hub.unwatch(known.def, known.canonical, uri, sink)
      interest.clear()
      subscribed.clear()
      listens.clear()
      target = undefined
    }
  }
}
