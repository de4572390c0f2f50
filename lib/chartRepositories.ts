import * as pulumi from "@pulumi/pulumi";
import { requireSecretConfig } from "../config/load";
import { ChartRepositoryCredential } from "../config/model";
import { ChartRepositories, ChartSource } from "../versions";

/**
 * Where a Helm release fetches its chart: the repository URL and, for a mirror that asks for
 * them, basic-auth credentials. Both credentials are Pulumi secrets, so they are encrypted in the
 * state and never part of the URL that config, state and policy messages show.
 */
export interface ChartRepositoryOpts {
    repo: string;
    username?: pulumi.Output<string>;
    password?: pulumi.Output<string>;
}

/**
 * The `repositoryOpts` of every chart source from validated config. `readSecret` reads a secret
 * config key (the password); tests pass their own.
 */
export function chartRepositoryOptsOf(
    repositories: ChartRepositories,
    credentials: Partial<Record<ChartSource, ChartRepositoryCredential>>,
    readSecret: (key: string) => pulumi.Output<string> = requireSecretConfig,
): Record<ChartSource, ChartRepositoryOpts> {
    const opts = (source: ChartSource): ChartRepositoryOpts => {
        const credential = credentials[source];
        if (!credential) return { repo: repositories[source] };
        return {
            repo: repositories[source],
            username: pulumi.secret(credential.username),
            password: pulumi.secret(readSecret(credential.passwordConfigKey)),
        };
    };
    return { istio: opts("istio"), spiffe: opts("spiffe"), jetstack: opts("jetstack") };
}
