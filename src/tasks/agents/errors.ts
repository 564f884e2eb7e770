/**
 * Errors of the agent runner. Callers branch on `.name`, never on the message.
 */
import { RESERVED_AGENT_NAMES } from './constants.js'

/** A task asks for an agent this machine does not serve (unknown, or disabled here). */
export class AgentNotServedError extends Error {
  override name = 'AgentNotServedError'
}

/**
 * The error for asking `registry` for `name` when it does not serve it: a built-in that
 * is disabled says how to enable it; anything else lists what this machine serves.
 */
export function notServed (registry: { names: () => string[] }, name: string): AgentNotServedError {
  const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name)
  if (RESERVED_AGENT_NAMES.includes(name)) {
    return new AgentNotServedError(
      `agent ${shown} is disabled on this machine (enable it with "agents": {${shown}: {"enabled": true}})`
    )
  }
  const served = registry.names()
  return new AgentNotServedError(
    `no agent ${shown} here; ${served.length > 0 ? `this machine serves: ${served.join(', ')}` : 'this machine serves no agents'}`
  )
}
