/**
 * ioredis listens for a socket's first `error` only (`stream.once("error")`): a socket
 * that fails twice — a TLS handshake refused with an alert, then the reset that follows —
 * emits its second error to nobody, and Node turns an `error` event with no listener
 * into an uncaught exception that ends the process. The first error is ioredis's to
 * handle (it reports it and reconnects); what the same dead socket says after that adds
 * nothing. So every socket a client opens gets one more `error` listener that ignores it.
 *
 * ioredis gives no hook for the socket it opens: the connector's `connect` (a private
 * field, the same in ioredis 5 and 6) is wrapped on the instance.
 */
import type { Cluster, Redis } from "ioredis"

interface StreamLike {
  on(event: "error", listener: (error: unknown) => void): unknown
}

interface ConnectorLike {
  connect: (...args: ReadonlyArray<unknown>) => Promise<StreamLike>
}

const ignore = (): void => {}

/** `client`, whose every socket from now on has an `error` listener besides ioredis's one-shot one. */
export const guardStreamErrors = <R extends Redis>(client: R): R => {
  const connector = (client as unknown as { connector?: ConnectorLike }).connector
  if (connector === undefined || typeof connector.connect !== "function") return client
  const connect = connector.connect.bind(connector)
  connector.connect = (...args) =>
    connect(...args).then((stream) => {
      stream.on("error", ignore)
      return stream
    })
  return client
}

/** The same for every node connection of a Cluster (made lazily: guarded when the Cluster adds it). */
export const guardClusterStreamErrors = (cluster: Cluster): Cluster => {
  cluster.on("+node", (node: Redis) => {
    guardStreamErrors(node)
  })
  return cluster
}
