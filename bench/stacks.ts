import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";

/**
 * Generated stacks of N apps for the benchmark: each app has a client secret, a generated certificate and
 * two federated credentials (GitHub environments), as a platform team's integrations typically do, plus
 * one application and one delegated Microsoft Graph permission so the program's per-API service principal
 * lookup is exercised (without permissions there would be no invoke to count).
 */

export const benchStack = "bench";
export const benchProject = "entra-rotor";

/** `app-0042`: 3-40 lowercase letters, digits or `-`, as app names must be; zero-padded so the order is stable. */
export function appName(index: number): string {
    return `app-${String(index).padStart(4, "0")}`;
}

/** The stack config (`config:` of Pulumi.bench.yaml) for `count` apps. */
export function stackConfig(count: number): Record<string, unknown> {
    const apps = Array.from({ length: count }, (_, i) => {
        const name = appName(i);
        return {
            name,
            displayName: `Contoso Integration ${i}`,
            description: `Generated integration number ${i} for the benchmark`,
            permissions: [{ api: "Microsoft Graph", application: ["Device.Read.All"], delegated: ["User.Read"] }],
            credentials: [
                { name: "main", type: "secret" },
                { name: "signing", type: "certificate" },
                { name: "deploy-production", type: "federated", github: { repo: `contoso/${name}`, environment: "production" } },
                { name: "deploy-staging", type: "federated", github: { repo: `contoso/${name}`, environment: "staging" } },
            ],
        };
    });
    return {
        [`${benchProject}:rotation`]: { rotateEveryDays: 90, lifetimeDays: 210 },
        [`${benchProject}:keyVault`]: { name: "kv-contoso-bench", resourceGroup: "rg-bench", create: true, location: "westeurope" },
        [`${benchProject}:apps`]: apps,
    };
}

export interface GeneratedProject {
    readonly apps: number;
    /** The Pulumi project directory, for `--dir`. */
    readonly dir: string;
    /** Pulumi.yaml and Pulumi.bench.yaml: what both rotor and the bare YAML baseline read. */
    readonly files: readonly string[];
    /** Bytes of YAML in `files`. */
    readonly bytes: number;
}

/** Writes a throwaway Pulumi project with the `bench` stack of `count` apps under `parent`. */
export function writeProject(parent: string, count: number): GeneratedProject {
    const dir = path.join(parent, `stack-${count}`);
    fs.mkdirSync(dir, { recursive: true });
    const projectFile = path.join(dir, "Pulumi.yaml");
    const stackFile = path.join(dir, `Pulumi.${benchStack}.yaml`);
    fs.writeFileSync(projectFile, stringify({ name: benchProject, runtime: "nodejs", description: "entra-rotor benchmark stack" }));
    fs.writeFileSync(stackFile, stringify({ config: stackConfig(count) }));
    const files = [projectFile, stackFile];
    return { apps: count, dir, files, bytes: files.reduce((sum, file) => sum + fs.statSync(file).size, 0) };
}

/** A fresh temporary directory for one bench run; removed by the caller. */
export function benchTempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "entra-rotor-bench-"));
}
