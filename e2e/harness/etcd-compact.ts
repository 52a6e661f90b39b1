// Compacts etcd's history through its JSON gateway, for the 410 Gone tests:
// after a compaction, a watch that resumes from an older resourceVersion of
// a resource the API server does not watch-cache (core/v1 Events) is
// answered by etcd itself with "too old resource version" — a real 410
// Gone, on demand, instead of waiting for the API server's own five-minute
// compaction.

interface EtcdHeader {
  readonly header?: { readonly revision?: string };
}

/** Compacts everything up to the current revision; returns that revision. */
export async function compactEtcd(endpoint: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<EtcdHeader> => {
    const res = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as EtcdHeader;
  };
  const { header } = await post('/v3/kv/range', {
    key: Buffer.from('yard-compact').toString('base64'),
  });
  const revision = Number(header?.revision);
  if (!Number.isInteger(revision) || revision <= 0) throw new Error('etcd gave no revision');
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
