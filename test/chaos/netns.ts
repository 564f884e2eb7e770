/**
 * A private test network: N hosts, each a network namespace with one veth link to a bridge
 * that lives in a namespace of its own. Addresses are 10.77.<net>.<1..N>/24 inside those
 * namespaces only; nothing is routed to or from the host's namespace. Partitions are
 * nftables rules inside the hosts' namespaces. Everything is deleted by `destroy()`.
 */
import { execFileSync } from 'node:child_process'

function sh (cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })
}

/** why this machine cannot run namespace tests, or undefined when it can */
export function namespaceSupport (tools: string[] = ['ip']): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces'
  for (const tool of tools) {
    try {
      sh(tool, tool === 'nft' ? ['--version'] : ['-V'])
    } catch {
      return `needs the ${tool} command (${tool === 'nft' ? 'nftables' : 'iproute2'})`
    }
  }
  return undefined
}

export class TestNetwork {
  readonly hosts: string[]
  readonly bridge: string
  private readonly net: number

  constructor (readonly size: number, tag = `${process.pid}`) {
    // a second octet per run keeps parallel test files apart
    this.net = 100 + (Number(tag) % 150)
    this.bridge = `pt-br-${tag}`
    this.hosts = Array.from({ length: size }, (_, i) => `pt-h${i + 1}-${tag}`)
  }

  address (i: number): string { return `10.77.${this.net}.${i + 1}` }

  create (): void {
    sh('ip', ['netns', 'add', this.bridge])
    sh('ip', ['-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge'])
    sh('ip', ['-n', this.bridge, 'link', 'set', 'br0', 'up'])
    this.hosts.forEach((ns, i) => {
      sh('ip', ['netns', 'add', ns])
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      // create the pair inside the host namespace, then move the far end to the bridge
      sh('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i + 1}`])
      sh('ip', ['-n', ns, 'link', 'set', `p${i + 1}`, 'netns', this.bridge])
      sh('ip', ['-n', this.bridge, 'link', 'set', `p${i + 1}`, 'master', 'br0'])
      sh('ip', ['-n', this.bridge, 'link', 'set', `p${i + 1}`, 'up'])
      sh('ip', ['-n', ns, 'addr', 'add', `${this.address(i)}/24`, 'dev', 'eth0'])
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    })
  }

  /** cut every packet between the two groups (host indexes), both directions */
  partition (a: number[], b: number[]): void {
    const rules = (mine: number[], theirs: number[]): string => {
      if (!mine.length || !theirs.length) return ''
      const set = theirs.map(i => this.address(i)).join(', ')
      return [
        'table inet paired_partition {',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        `    ip saddr { ${set} } drop`,
        '  }',
        '  chain output {',
        '    type filter hook output priority 0; policy accept;',
        `    ip daddr { ${set} } drop`,
        '  }',
        '}'
      ].join('\n')
    }
    for (const i of a) sh('ip', ['netns', 'exec', this.hosts[i], 'nft', '-f', '-'], rules([i], b))
    for (const i of b) sh('ip', ['netns', 'exec', this.hosts[i], 'nft', '-f', '-'], rules([i], a))
  }

  heal (): void {
    for (const ns of this.hosts) {
      try { sh('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'paired_partition']) } catch {}
    }
  }

  destroy (): void {
    for (const ns of [...this.hosts, this.bridge]) {
      try { sh('ip', ['netns', 'del', ns]) } catch {}
    }
  }
}
