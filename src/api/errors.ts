/**
 * Errors of the local API's HTTP shell, and the one table that turns any error's `name`
 * into an HTTP status. The body is always `{ "error": { "name", "message" } }`.
 */

/** The `Host` header is not a loopback name (DNS rebinding). HTTP 403. */
export class ForbiddenHostError extends Error {
  override name = 'ForbiddenHostError'
}

/** A browser `Origin` other than this API's own. HTTP 403. */
export class ForbiddenOriginError extends Error {
  override name = 'ForbiddenOriginError'
}

/** No bearer token, or the wrong one. HTTP 401. */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError'
}

/** A known route asked with the wrong method. HTTP 405. */
export class MethodNotAllowedError extends Error {
  override name = 'MethodNotAllowedError'
  /** the methods the route does answer: the `Allow` header */
  readonly allow: string[]

  constructor (message: string, allow: string[]) {
    super(message)
    this.allow = allow
  }
}

/** A request body over the limit. HTTP 413. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError'
}

/** A key-value value whose JSON is over the 1 MiB limit. HTTP 413, CLI exit code 2. */
export class ValueTooLargeError extends Error {
  override name = 'ValueTooLargeError'
}

/** The daemon behind the API lacks this feature (e.g. no key-value store). HTTP 501. */
export class NotImplementedError extends Error {
  override name = 'NotImplementedError'
}

/** HTTP status for an error name; anything unknown is a 500. */
export const STATUS_BY_ERROR_NAME: Readonly<Record<string, number>> = {
  InvalidArgumentError: 400,
  MalformedInviteError: 400,
  InviteExpiredError: 400,
  InvalidInviteError: 400,
  InviteUsedError: 400,
  WrongTeamError: 400,
  StaleInviteError: 400,
  UnauthorizedError: 401,
  PermissionDeniedError: 403,
  RemovedFromTeamError: 403,
  ForbiddenHostError: 403,
  ForbiddenOriginError: 403,
  NotFoundError: 404,
  MethodNotAllowedError: 405,
  PayloadTooLargeError: 413,
  ValueTooLargeError: 413,
  NotImplementedError: 501,
  AgentNotServedError: 422,
  PeerUnreachableError: 504,
  StoreFullError: 507,
  StoreWriteError: 503,
  TimeoutError: 504
}

export function statusForError (name: string): number {
  return Object.hasOwn(STATUS_BY_ERROR_NAME, name) ? STATUS_BY_ERROR_NAME[name] : 500
}

/** `{ name, message }` of anything thrown; never a stack */
export function errorBody (err: unknown): { error: { name: string, message: string } } {
  if (typeof err === 'object' && err != null) {
    const { name, message } = err as { name?: unknown, message?: unknown }
    if (typeof message === 'string') {
      return { error: { name: typeof name === 'string' && name !== '' ? name : 'Error', message } }
    }
  }
  return { error: { name: 'Error', message: String(err) } }
}
