/**
 * What a scenario's phases share, and steps: a phase as data (a name and what it runs on the
 * context), so that a scenario's checks are a list, and a later layer (the live control plane of
 * e2e/live/, say) adds its phases as steps: to a list, or as a chain of its own after `up`.
 */
import { Repositories } from "../charts/mirror";
import { Domain } from "../clusters/domains";
import { Workspace } from "../engine/workspace";
import { passed, phase } from "../runner/phases";

/** What a stack exports for one of its domains: index.ts's `domains` output, or `federation.domains` of a peer stack. */
export interface DomainExport {
    trustBundle?: string;
    bundleEndpointUrl?: string;
    [key: string]: unknown;
}

/** What the shared phases made (scenarios/setup.ts). */
export interface Setup {
    /** Every shared phase passed: the scenario's own phases may start. */
    ready: boolean;
    repositories: Repositories;
    /** Whether the scenario puts a root per domain in config or the program generates them (tls provider). */
    roots: "supplied" | "generated";
}

/** What every phase of a scenario can reach. */
export interface Context extends Setup {
    /** Every domain whose cluster this run brings up, in order. */
    clusters: Domain[];
    /** The domains deployed now, in order: the single-stack scenario's grows from two to three. */
    mesh: Domain[];
    /** The backend, CLI and program of the run's stacks, once the first stack phase made it. */
    workspace?: Workspace;
    /**
     * What the stack deploying `domain` exports for it: from the last `up` of a single stack, or
     * read now from the domain's own stack in the cross-stack scenario.
     */
    exported(domain: Domain): Promise<DomainExport | undefined>;
    /** When the `up` that deployed the current mesh returned (ms since the epoch): where timings of what follows `up` start. */
    deployedAt?: number;
}

/** One phase of a scenario as data. */
export interface Step<C extends Context = Context> {
    /** The phase's name in the report. */
    name: string;
    /** An earlier phase of this run that must have passed too, beyond what the whole list needs (a live check needs the live processes started). */
    after?: string;
    run: (context: C, evidence: string[]) => Promise<void>;
}

/**
 * Runs each step as a phase, in order; a step failing does not skip the next (each check stands on its own).
 * @param steps the phases
 * @param needs what every step needs: false skips them all
 * @param context the scenario's
 * @returns whether every step passed
 */
export async function runSteps<C extends Context>(steps: Step<C>[], needs: boolean, context: C): Promise<boolean> {
    let all = true;
    for (const step of steps) {
        const ok = await phase(step.name, needs && (step.after === undefined || passed(step.after)), (evidence) => step.run(context, evidence));
        all &&= ok;
    }
    return all;
}

/**
 * Runs each step as a phase, in order, each needing the one before it: for steps that build on
 * each other (a process started, then read), where the first failure skips the rest.
 * @param steps the phases
 * @param needs what the first step needs
 * @param context the scenario's
 * @returns whether every step passed
 */
export async function runChain<C extends Context>(steps: Step<C>[], needs: boolean, context: C): Promise<boolean> {
    let previous = needs;
    for (const step of steps) {
        previous = await phase(step.name, previous && (step.after === undefined || passed(step.after)), (evidence) => step.run(context, evidence));
    }
    return previous;
}
