/**
 * The trust domains of the scenarios and the local clusters they run on: one cluster per domain,
 * each on its own loopback address (`E2E_ADDRESSES` overrides them).
 */
import * as path from "node:path";
import { cache, work } from "../runner/paths";

/** One trust domain of the scenario and the local cluster it runs on. */
export interface Domain {
    /** The cluster's name: `cluster.sh`'s, the kubeconfig context's, and the program's `domains[].name`. */
    name: string;
    trustDomain: string;
    /** The Istio network of the domain's cluster. */
    network: string;
    /** The loopback address of the cluster's API server and of its one (kwok) node. */
    address: string;
    /** Admin kubeconfig that `cluster.sh up` writes. */
    kubeconfig: string;
    /** Where this run keeps the domain's root CA (made with openssl) and what checks write beside it. */
    rootDir: string;
}

const addresses = (process.env.E2E_ADDRESSES ?? "127.0.0.2,127.0.0.3,127.0.0.4").split(",");

/** The first two are the mesh of every scenario; the single-stack scenario adds the third to a running mesh. */
export const domains: Domain[] = [
    { name: "cluster-1", trustDomain: "foo.com", network: "foo-network" },
    { name: "cluster-2", trustDomain: "bar.com", network: "bar-network" },
    { name: "cluster-3", trustDomain: "baz.com", network: "baz-network" },
].map((domain, index) => ({
    ...domain,
    address: addresses[index],
    kubeconfig: path.join(cache, "clusters", domain.name, "kubeconfig"),
    rootDir: path.join(work, "roots", domain.name),
}));

/**
 * The other domains of a mesh, in the mesh's order.
 * @param mesh the domains deployed together
 * @param domain one of them
 */
export const peersOf = (mesh: Domain[], domain: Domain): Domain[] => mesh.filter((other) => other !== domain);
