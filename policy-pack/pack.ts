import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PolicyDefinition } from "./lib/definition";
import * as adminKubeconfigsNotExported from "./policies/adminKubeconfigsNotExported";
import * as bundleEndpointService from "./policies/bundleEndpointService";
import * as certManagerValues from "./policies/certManagerValues";
import * as containerImagesPinned from "./policies/containerImagesPinned";
import * as federationCredentialsReaderOnly from "./policies/federationCredentialsReaderOnly";
import * as gkeClusterSecurity from "./policies/gkeClusterSecurity";
import * as gkeDeletionProtection from "./policies/gkeDeletionProtection";
import * as gkePrivateNodes from "./policies/gkePrivateNodes";
import * as helmChartsPinned from "./policies/helmChartsPinned";
import * as istiodCacerts from "./policies/istiodCacerts";
import * as istioRemoteSecretReaderOnly from "./policies/istioRemoteSecretReaderOnly";
import * as istioStrictMtls from "./policies/istioStrictMtls";
import * as istioTrustDomain from "./policies/istioTrustDomain";
import * as kubernetesExplicitProvider from "./policies/kubernetesExplicitProvider";
import * as loadBalancerSourceRanges from "./policies/loadBalancerSourceRanges";
import * as noRootCaClusterIssuer from "./policies/noRootCaClusterIssuer";
import * as peerReaderRbac from "./policies/peerReaderRbac";
import * as rootCaLifetime from "./policies/rootCaLifetime";
import * as sensitiveValuesSecret from "./policies/sensitiveValuesSecret";
import * as spireFederation from "./policies/spireFederation";
import * as trustDomainNames from "./policies/trustDomainNames";
import * as trustDomainsUnique from "./policies/trustDomainsUnique";

/** What every module under policies/ exports: the plain definition and its @pulumi/policy form. */
export interface PolicyModule {
    // Each module's config type differs; the pack only needs them side by side.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    definition: PolicyDefinition<any>;
    policy: ResourceValidationPolicy | StackValidationPolicy;
}

/** Every policy of the pack, in the order reports list them. */
export const policyModules: PolicyModule[] = [
    helmChartsPinned,
    certManagerValues,
    containerImagesPinned,
    kubernetesExplicitProvider,
    sensitiveValuesSecret,
    istioRemoteSecretReaderOnly,
    federationCredentialsReaderOnly,
    peerReaderRbac,
    adminKubeconfigsNotExported,
    trustDomainNames,
    trustDomainsUnique,
    spireFederation,
    bundleEndpointService,
    istioStrictMtls,
    istioTrustDomain,
    rootCaLifetime,
    istiodCacerts,
    noRootCaClusterIssuer,
    gkeClusterSecurity,
    gkeDeletionProtection,
    gkePrivateNodes,
    loadBalancerSourceRanges,
];

export const packName = "spire-istio-mesh-policies";
