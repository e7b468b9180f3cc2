import type * as pulumi from "@pulumi/pulumi";

/**
 * What the program waits on, and what failed. One credential's, app's or tenant's problem must never stop the
 * others (a stack of 200 apps has a failure somewhere every week), so the program registers everything and
 * learns at the end which parts failed, then fails the run naming each.
 *
 * Under the Node SDK a failure shows in two ways. A resource whose registration fails (Graph answers 503 to a
 * create) has its URN and outputs rejected. A resource one of whose inputs failed (a proof that did not sign
 * in, a permission the tenant lacks, an output of a failed resource) is never sent to the engine: its URN and
 * outputs never settle at all. So "done" for a resource is its URN resolving, or a failure upstream of it,
 * which is why each tracked item names what it waits on.
 */

/** A root cause: the first thing that failed, and the part of the stack it belongs to. */
export interface Failure {
    /** The part that failed on its own: an app (`mail-sender`) or one credential (`mail-sender/main`). */
    readonly unit: string;
    /** What failed, e.g. the resource name `mail-sender-main-slot1` or `verify gate`. */
    readonly what: string;
    readonly error: Error;
}

type Outcome = { readonly failure?: Failure };

/** Something tracked, that others may wait on. */
export interface Tracked {
    /** Resolves once settled: without `failure` when it succeeded, with the root cause otherwise. Never rejects. */
    readonly outcome: Promise<Outcome>;
}

/** The items of one part of the program (one app), settled together for the program's window of apps in flight. */
export class Outcomes {
    private readonly items: Promise<Outcome>[] = [];

    /** A resource: settled when the engine has answered its registration, or when anything it waits on failed. */
    resource(resource: pulumi.Resource, unit: string, name: string, after: readonly Tracked[] = []): Tracked {
        return this.track(promiseOf(resource.urn), unit, name, after);
    }

    /** A value the program computes (a proof, a permission id): settled when it is known or failed. */
    value(output: pulumi.Output<unknown>, unit: string, what: string, after: readonly Tracked[] = []): Tracked {
        return this.track(promiseOf(output), unit, what, after);
    }

    /** A failure known without waiting (a certificate file that expired): reported like any other. */
    failed(unit: string, what: string, error: Error): void {
        this.items.push(Promise.resolve({ failure: { unit, what, error } }));
    }

    /** Resolves once everything tracked has settled, with each root cause once, in the order they were tracked. */
    async settled(): Promise<Failure[]> {
        const outcomes = await Promise.all(this.items);
        const seen = new Set<Failure>();
        const failures: Failure[] = [];
        for (const { failure } of outcomes) {
            if (failure && !seen.has(failure)) {
                seen.add(failure);
                failures.push(failure);
            }
        }
        return failures;
    }

    private track(own: Promise<unknown>, unit: string, what: string, after: readonly Tracked[]): Tracked {
        const settledOwn = own.then(
            (): Outcome => ({}),
            (error: unknown): Outcome => ({ failure: { unit, what, error: asError(error) } }),
        );
        const outcome = after.length === 0 ? settledOwn : Promise.race([settledOwn, firstFailure(after)]);
        this.items.push(outcome);
        return { outcome };
    }
}

/** Resolves with the first failure among `items`; never, when none fails. */
function firstFailure(items: readonly Tracked[]): Promise<Outcome> {
    return new Promise((resolve) => {
        for (const item of items) void item.outcome.then((outcome) => outcome.failure && resolve(outcome));
    });
}

/** How the SDK itself awaits an output (`Output.promise()`, not in its typings); `apply` never calls back for a failure. */
function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return (output as unknown as { promise(): Promise<T> }).promise();
}

function asError(error: unknown): Error {
    return error instanceof Error ? error : new Error(String(error));
}
