/** Every wire message's schema, one module per protocol (see docs/PROTOCOL.md). */
export * from './common.js'
export * from './task.js'
export * from './team.js'
export * from './query.js'
export * from './status.js'
export * from './rekey.js'
export * from './sync.js'
export * from './gossip.js'
