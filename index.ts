import { loadMeshConfig } from "./config/load";
import { deployMesh } from "./mesh";

// Config is validated in full before any resource is declared: a bad stack fails here, with
// every problem listed, and nothing is half-created.
const mesh = deployMesh(loadMeshConfig());

/** Per domain: trust domain, SPIFFE bundle, bundle endpoint, network and gateway addresses. */
export const domains = mesh.outputs;
/** Kubeconfig per domain (secret): what `npm run verify` uses to reach each cluster. */
export const kubeconfigs = mesh.kubeconfigs;
