/**
 * Resource change notifications, shared by every connection of the process:
 * one listener per subscribable resource family (started with its first
 * watcher, then kept for the life of the server), fanned out to the
 * connections watching each URI, in the URI form each one used.
 */
import { Deferred, Duration, Effect, Scope, Stream } from "effect"
import type { ResourceChange, ResourceDef } from "../tools/Feature.ts"

/** Where a connection's `notifications/resources/updated` go. */
export interface Sink {
  readonly notify: (uri: string) => void
}

/** How long watching waits for the family's listener to be listening (Redis may be down). */
const READY_WAIT = Duration.seconds(5)

interface Family {
  readonly ready: Deferred.Deferred<void>
  started: boolean
  /** canonical URI → sink → the URI forms that sink watches it under. */
  readonly watchers: Map<string, Map<Sink, Set<string>>>
}

export interface ChangeHub<R> {
  /**
   * Tell `sink` of changes to the resource `canonical` of `def`, under `uri`.
   * Completes once the family's listener hears changes (or after a bounded
   * wait), so no change made after it completes is missed.
   */
  readonly watch: (def: ResourceDef<R>, canonical: string, uri: string, sink: Sink) => Effect.Effect<void, never, R>
  readonly unwatch: (def: ResourceDef<R>, canonical: string, uri: string, sink: Sink) => void
}

/** A hub whose listeners live in the current scope. */
export const makeChangeHub = <R>(): Effect.Effect<ChangeHub<R>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const families = new Map<ResourceDef<R>, Family>()

    const familyOf = (def: ResourceDef<R>) =>
      Effect.gen(function* () {
        const known = families.get(def)
        if (known !== undefined) return known
        const family: Family = { ready: yield* Deferred.make<void>(), started: false, watchers: new Map() }
        families.set(def, family)
        return family
      })

    const onChange = (family: Family) => (change: ResourceChange) =>
      Effect.gen(function* () {
        if (change._tag === "Changed") {
          for (const [sink, uris] of family.watchers.get(change.uri) ?? []) for (const uri of uris) sink.notify(uri)
          return
        }
        // Listening again after a lost connection: changes may have been missed, so say each may have changed.
        if (yield* Deferred.isDone(family.ready)) {
          for (const sinks of family.watchers.values())
            for (const [sink, uris] of sinks) for (const u of uris) sink.notify(u)
        }
        yield* Deferred.succeed(family.ready, undefined)
      })

    const start = (def: ResourceDef<R>, family: Family) =>
      family.started || def.changes === undefined
        ? Effect.void
        : Effect.suspend(() => {
            family.started = true
            return Stream.runForEach(def.changes!, onChange(family)).pipe(Effect.forkIn(scope), Effect.asVoid)
          })

    return {
      watch: (def, canonical, uri, sink) =>
        Effect.gen(function* () {
          const family = yield* familyOf(def)
          const sinks = family.watchers.get(canonical) ?? new Map<Sink, Set<string>>()
          family.watchers.set(canonical, sinks)
          const uris = sinks.get(sink) ?? new Set<string>()
          sinks.set(sink, uris)
          uris.add(uri)
          yield* start(def, family)
          yield* Deferred.await(family.ready).pipe(Effect.timeout(READY_WAIT), Effect.ignore)
        }),
      unwatch: (def, canonical, uri, sink) => {
        const sinks = families.get(def)?.watchers.get(canonical)
        const uris = sinks?.get(sink)
        if (sinks === undefined || uris === undefined) return
        uris.delete(uri)
        if (uris.size === 0) sinks.delete(sink)
        if (sinks.size === 0) families.get(def)?.watchers.delete(canonical)
      }
    }
  })
