import { Level } from 'level'
import { InvalidConfigError } from '../../errors.js'
import { STORE_VERSION, VERSION_KEY, prefixEnd } from './keys.js'

export type PairedDb = Level<string, unknown>

/** a migration takes the store from `from` to `from + 1` */
export type Migration = (db: PairedDb) => Promise<void>

const MIGRATIONS: Record<number, Migration> = {}

/** Open the store, write the version key on a new one, run migrations on an old one. */
export async function openStore (path: string): Promise<PairedDb> {
  const db = new Level<string, unknown>(path, { valueEncoding: 'json' })
  await db.open()
  const found = await db.get(VERSION_KEY)
  if (found === undefined) {
    await db.put(VERSION_KEY, STORE_VERSION, { sync: true })
    return db
  }
  let version = Number(found)
  if (!Number.isInteger(version) || version > STORE_VERSION) {
    await db.close()
    throw new InvalidConfigError(`the store at ${path} has format version ${String(found)}, newer than this paired understands (${STORE_VERSION}); upgrade paired`)
  }
  while (version < STORE_VERSION) {
    const migrate = MIGRATIONS[version]
    if (migrate == null) throw new InvalidConfigError(`no migration from store version ${version}`)
    await migrate(db)
    version++
    await db.put(VERSION_KEY, version, { sync: true })
  }
  return db
}

/**
 * All values under a key prefix ending in an ASCII character. (The bound is exact in
 * LevelDB's byte order: `prefix + '\xff'` would miss keys whose next character is past U+00FF.)
 */
export async function scanPrefix<T> (db: PairedDb, prefix: string): Promise<Array<[string, T]>> {
  const out: Array<[string, T]> = []
  for await (const [key, value] of db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
    out.push([key, value as T])
  }
  return out
}
