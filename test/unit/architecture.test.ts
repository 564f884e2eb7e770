/**
 * The import graph of `src/`, read from the sources (static `import`, `import type`,
 * `export ... from`, dynamic `import()` and `import('...')` types): no cycle, type-only
 * imports included; the HTTP edge (`src/api/`) imported only by itself, the CLI and the
 * composition root; `src/model/` below every domain folder; no file over 400 lines.
 * `npm run cycles` shows the same cycles with madge.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const SRC = join(ROOT, 'src')

/** where the daemon is put together with its HTTP edge */
const COMPOSITION_ROOTS = new Set(['src/app.ts'])
/** the only folders besides the composition root that may import `src/api/` */
const API_USERS = ['src/api/', 'src/cli/']
/** what `src/model/` may import besides packages and its own files */
const MODEL_MAY_IMPORT = new Set(['src/errors.ts'])
/** the size past which a source file holds more than one room (issue #13) */
const MAX_FILE_LINES = 400


function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out.sort()
}

/** every module specifier `text` names, type-only and dynamic ones included */
export function specifiers (text: string, fileName = 'x.ts'): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier != null && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push(node.moduleReference.expression.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      out.push(node.arguments[0].text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/** the `src/` file a relative specifier names, or undefined (a package, a JSON file) */
function resolveSpecifier (from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  const target = resolve(dirname(from), spec)
  const candidates = [target.replace(/\.js$/, '.ts'), `${target}.ts`, join(target, 'index.ts'), target]
  return candidates.find(c => c.endsWith('.ts') && existsSync(c))
}

type Graph = Map<string, string[]>

function importGraph (): Graph {
  const graph: Graph = new Map()
  for (const file of sourceFiles(SRC)) {
    const targets = new Set<string>()
    for (const spec of specifiers(readFileSync(file, 'utf8'), file)) {
      const to = resolveSpecifier(file, spec)
      if (to !== undefined) targets.add(relative(ROOT, to))
    }
    graph.set(relative(ROOT, file), [...targets].sort())
  }
  return graph
}

/** one cycle through each strongly connected component of more than one file (or a self-import), as `a > b > a` */
export function cycles (graph: Graph): string[] {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const connect = (v: string): void => {
    indices.set(v, index); low.set(v, index); index++
    stack.push(v); onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, indices.get(w) ?? 0))
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = []
      let w: string | undefined
      do {
        w = stack.pop()
        if (w === undefined) break
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      components.push(component)
    }
  }
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v)
  const out: string[] = []
  for (const component of components) {
    const members = new Set(component)
    const start = component.sort()[0]
    if (component.length === 1 && !(graph.get(start) ?? []).includes(start)) continue
    // the shortest way from `start` back to itself inside the component
    const previous = new Map<string, string>()
    const queue = [start]
    let found = false
    while (queue.length > 0 && !found) {
      const v = queue.shift() as string
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue
        if (w === start) { previous.set(start, v); found = true; break }
        if (!previous.has(w)) { previous.set(w, v); queue.push(w) }
      }
    }
    const path = [start]
    for (let v = previous.get(start); v !== undefined && v !== start; v = previous.get(v)) path.unshift(v)
    path.unshift(start)
    out.push(path.join(' > '))
  }
  return out.sort()
}


const graph = importGraph()

describe('the import graph of src/', () => {
  it('is read from every kind of import', () => {
    expect(specifiers([
      "import a from './a.js'",
      "import type { B } from './b.js'",
      'import {\n  c,\n  type C\n} from "./c.js"',
      "export * from './d.js'",
      "export type { E } from './e.js'",
      "import './f.js'",
      "const g = await import('./g.js')",
      "let h: import('./h.js').H",
      "// import x from './not-code.js'",
      "const s = \"import y from './not-code-either.js'\""
    ].join('\n'))).toStrictEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js'])
    expect(graph.size).toBeGreaterThan(100)
    expect(graph.get('src/daemon/session.ts')).toContain('src/daemon/redialer.ts')
  })

  it('finds cycles, type-only ones included', () => {
    const g: Graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']]])
    expect(cycles(g)).toStrictEqual(['a > b > c > a', 'e > e'])
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toStrictEqual([])
  })

  it('has no import cycle', () => {
    expect(cycles(graph)).toStrictEqual([])
  })


  it('has src/api/ imported only by the HTTP edge, the CLI and the composition root', () => {
    const offenders = [...graph]
      .filter(([from]) => !COMPOSITION_ROOTS.has(from) && !API_USERS.some(dir => from.startsWith(dir)))
      .flatMap(([from, to]) => to.filter(t => t.startsWith('src/api/')).map(t => `${from} -> ${t}`))
    expect(offenders).toStrictEqual([])
  })

  it('has src/model/ import nothing from the domain', () => {
    const offenders = [...graph]
      .filter(([from]) => from.startsWith('src/model/'))
      .flatMap(([from, to]) => to.filter(t => !t.startsWith('src/model/') && !MODEL_MAY_IMPORT.has(t)).map(t => `${from} -> ${t}`))
    expect(offenders).toStrictEqual([])
  })

  it('has no source file over 400 lines: a file that grows past it is split along its seams', () => {
    const long = [...graph.keys()]
      .map(file => ({ file, lines: readFileSync(join(ROOT, file), 'utf8').trimEnd().split('\n').length }))
      .filter(f => f.lines > MAX_FILE_LINES)
      .map(f => `${f.file}: ${f.lines} lines`)
    expect(long).toStrictEqual([])
  })
})
