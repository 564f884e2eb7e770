/** Errors of the presence subsystem; callers branch on `.name`. */

/**
 * A connection to a member was hung up because that member is no longer believed
 * reachable over it: the member was declared `dead`, or it came back on a new connection
 * while this one stayed silent. The reason a connection was aborted with.
 */
export class StaleConnectionError extends Error {
  override name = 'StaleConnectionError'
}
