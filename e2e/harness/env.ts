/**
 * The kubeconfig of an existing cluster to use instead of starting one
 * (envtest's USE_EXISTING_CLUSTER idea), or undefined.
 */
export function useExistingCluster(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['YARD_USE_EXISTING_CLUSTER'] !== 'true') return undefined;
  const kc = env['KUBECONFIG'];
  if (!kc) {
    throw new Error('YARD_USE_EXISTING_CLUSTER=true needs KUBECONFIG to name the cluster to use');
  }
  return kc.split(':')[0];
}
