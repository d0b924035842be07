/**
 * Integration-test harness for real Redis topologies (standalone, TLS, ACL,
 * sentinel, cluster). See README.md in this directory.
 */
export { type ClientOptions, clientOptions, command, type Endpoint, info, parseInfo, role } from "./admin.ts"
export { cli, cliConnectionArgs, runCli } from "./cli.ts"
export { type RedisCluster, type StartClusterOptions, startCluster } from "./cluster.ts"
export { type ClusterNodeInfo, ownerOfSlot, parseClusterNodes } from "./cluster-nodes.ts"
export type { AclUser } from "./config.ts"
export {
  clusterResource,
  RedisTestCluster,
  RedisTestSentinel,
  RedisTestServer,
  redisResource,
  sentinelResource
} from "./effect.ts"
export { isCI, redisAvailable, requireRedis } from "./env.ts"
export { ephemeralPort, freePort, freePorts, HOST } from "./ports.ts"
export { livePids, sessionDir, stopAll } from "./registry.ts"
export {
  type Address,
  type SentinelNode,
  type SentinelSet,
  type SentinelSetOptions,
  startSentinelSet
} from "./sentinel.ts"
export { type RedisHandle, type StartRedisOptions, startRedis } from "./standalone.ts"
export { type TlsClientOptions, type TlsFiles, tlsClientOptions, tlsFiles } from "./tls.ts"
export { sleep, waitFor } from "./wait.ts"
