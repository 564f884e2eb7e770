/**
 * @packageDocumentation
 *
 * Errors shared by every layer. Callers branch on `.name`, never on the message; the API
 * answers `{ error: { name, message } }` and the CLI maps names to exit codes.
 */

/** Bad arguments from a user (CLI flag, API body): exit code 2, HTTP 400. */
export class InvalidArgumentError extends Error {
  override name = 'InvalidArgumentError'
}

/** The thing asked for does not exist (peer, member, route): exit code 4, HTTP 404. */
export class NotFoundError extends Error {
  override name = 'NotFoundError'
}

/** No daemon answers on this home's socket: exit code 3. */
export class DaemonNotRunningError extends Error {
  override name = 'DaemonNotRunningError'
}

/** Another daemon already holds this home's lock. */
export class HomeLockedError extends Error {
  override name = 'HomeLockedError'
}

/** A remote peer could not be reached or did not answer in time. */
export class PeerUnreachableError extends Error {
  override name = 'PeerUnreachableError'
}

/** The request is understood but not allowed (role, membership). HTTP 403. */
export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError'
}

/** The configuration file or a config value is invalid; names the bad key. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
}

/** A configured listen address (libp2p `--listen`, or the API port) is taken or not this machine's: exit code 2. */
export class ListenAddressError extends Error {
  override name = 'ListenAddressError'
}
