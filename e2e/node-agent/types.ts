// The contract between the node agent's pure core (images, ip, env, restart,
// readiness, status, select) and its adapter (agent, pod-run, container): the
// parts of Pods and Nodes the agent reads, as the API sends them in JSON
// (timestamps are strings), and the per-container view the adapter reports.
// Neither side imports the other's internals; both import this file.

export interface EnvVarSource {
  readonly fieldRef?: { readonly fieldPath: string; readonly apiVersion?: string };
  readonly resourceFieldRef?: {
    readonly resource: string;
    readonly containerName?: string;
    readonly divisor?: string | number;
  };
  readonly configMapKeyRef?: KeyRef;
  readonly secretKeyRef?: KeyRef;
}

export interface KeyRef {
  readonly name?: string;
  readonly key: string;
  readonly optional?: boolean;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: EnvVarSource;
}

export interface EnvFromSource {
  readonly prefix?: string;
  readonly configMapRef?: { readonly name?: string; readonly optional?: boolean };
  readonly secretRef?: { readonly name?: string; readonly optional?: boolean };
}

export interface ContainerPort {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol?: string;
}

export interface HttpGetAction {
  readonly path?: string;
  readonly port: number | string;
  readonly scheme?: string;
  readonly host?: string;
  readonly httpHeaders?: readonly { readonly name: string; readonly value: string }[];
}

export interface Probe {
  readonly httpGet?: HttpGetAction;
  readonly tcpSocket?: { readonly port: number | string; readonly host?: string };
  readonly exec?: unknown;
  readonly grpc?: unknown;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly successThreshold?: number;
  readonly failureThreshold?: number;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly envFrom?: readonly EnvFromSource[];
  readonly ports?: readonly ContainerPort[];
  readonly readinessProbe?: Probe;
  readonly resources?: {
    readonly limits?: Readonly<Record<string, string | number>>;
    readonly requests?: Readonly<Record<string, string | number>>;
  };
}

export interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
  readonly lastProbeTime?: string | null;
}

export interface WaitingState {
  readonly reason?: string;
  readonly message?: string;
}

export interface RunningState {
  readonly startedAt?: string;
}

export interface TerminatedState {
  readonly exitCode: number;
  readonly signal?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly containerID?: string;
}

export interface ContainerState {
  readonly waiting?: WaitingState;
  readonly running?: RunningState;
  readonly terminated?: TerminatedState;
}

export interface ContainerStatus {
  readonly name: string;
  readonly image: string;
  readonly imageID?: string;
  readonly containerID?: string;
  readonly ready: boolean;
  readonly started?: boolean;
  readonly restartCount: number;
  readonly state?: ContainerState;
  readonly lastState?: ContainerState;
}

export interface PodStatus {
  readonly phase?: string;
  readonly podIP?: string;
  readonly podIPs?: readonly { readonly ip: string }[];
  readonly hostIP?: string;
  readonly hostIPs?: readonly { readonly ip: string }[];
  readonly startTime?: string;
  readonly conditions?: readonly PodCondition[];
  readonly containerStatuses?: readonly ContainerStatus[];
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: string;
    readonly deletionGracePeriodSeconds?: number;
  };
  readonly spec?: {
    readonly nodeName?: string;
    readonly serviceAccountName?: string;
    readonly automountServiceAccountToken?: boolean;
    readonly restartPolicy?: string;
    readonly terminationGracePeriodSeconds?: number;
    readonly hostNetwork?: boolean;
    readonly containers?: readonly Container[];
    readonly initContainers?: readonly Container[];
    readonly readinessGates?: readonly { readonly conditionType: string }[];
  };
  readonly status?: PodStatus;
}

export interface NodeObject {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: { readonly podCIDR?: string; readonly podCIDRs?: readonly string[] };
  readonly status?: {
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly allocatable?: Readonly<Record<string, string | number>>;
  };
}

/** What the adapter knows of one container of a running pod. */
export interface ContainerView {
  readonly name: string;
  readonly image: string;
  /** `process://<pid>` of the current or last process. */
  readonly containerID?: string;
  readonly state: ContainerState;
  readonly lastState?: ContainerState;
  readonly restartCount: number;
  /** Running and its readiness check passes. */
  readonly ready: boolean;
}

/** What the adapter knows of one pod it runs. */
export interface PodView {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly containers: readonly ContainerView[];
}
