import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../infra/model/issues";
import { buildModelOrThrow } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";
import { projectDir } from "./support/cli";
import { repoRoot } from "./support/program";

const apps = [{ name: "mailer", permissions: [{ api: "Microsoft Graph", delegated: ["openid"] }] }];

describe("readStackConfig", () => {
    it("reads the project's namespace, ignores other providers' keys and never reads encrypted values", () => {
        const dir = projectDir({
            dev: { config: { "entra-rotor:apps": apps, "azuread:tenantId": "x", "entra-rotor:token": { secure: "AAABAKEY" } } },
        });
        const input = readStackConfig(dir, "dev");
        expect(input.project).toBe("entra-rotor");
        expect(input.values).toEqual({ apps });
        expect(JSON.stringify(input)).not.toContain("AAABAKEY");
    });

    it("applies project-level values and defaults from Pulumi.yaml, overridden by the stack file", () => {
        const dir = projectDir(
            { dev: { config: {} }, prod: { config: { "entra-rotor:apps": [] } } },
            { name: "entra-rotor", runtime: "nodejs", config: { "entra-rotor:apps": { default: apps } } },
        );
        expect(readStackConfig(dir, "dev").values["apps"]).toEqual(apps);
        expect(readStackConfig(dir, "prod").values["apps"]).toEqual([]);
    });

    it("uses the project's own name as the namespace and honours stackConfigDir and .yml", () => {
        const dir = projectDir({}, { name: "identity", runtime: "nodejs", stackConfigDir: "stacks" });
        // The stack file takes the project file's extension (Pulumi's ProjectStackPath): Pulumi.yml, Pulumi.dev.yml.
        fs.renameSync(path.join(dir, "Pulumi.yaml"), path.join(dir, "Pulumi.yml"));
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.dev.yml"), "config:\n  identity:apps: []\n  entra-rotor:apps: [1]\n");
        expect(readStackConfig(dir, "dev")).toMatchObject({ project: "identity", values: { apps: [] } });
    });

    it("reports YAML syntax errors with their line", () => {
        const dir = projectDir({ dev: "config:\n  entra-rotor:apps:\n    - name: [unclosed\n" });
        expect(() => readStackConfig(dir, "dev")).toThrow(ConfigError);
        expect(() => readStackConfig(dir, "dev")).toThrow(/Pulumi\.dev\.yaml: 1 config error:\n {2}line \d+, column \d+: /);
    });

    it("refuses duplicate YAML keys, which would silently drop config", () => {
        const dir = projectDir({ dev: "config:\n  entra-rotor:apps: []\n  entra-rotor:apps: []\n" });
        expect(() => readStackConfig(dir, "dev")).toThrow(/Map keys must be unique/);
    });

    it("says what is missing when there is no Pulumi.yaml", () => {
        expect(() => readStackConfig(path.join(repoRoot, "test"), "dev")).toThrow(/no Pulumi.yaml in .*; run rotor from the project directory or pass --dir/);
    });

    it("reads the sample stack into a valid model", () => {
        const model = buildModelOrThrow(readStackConfig(repoRoot, "dev"), new Date("2026-11-23T00:00:00Z"));
        expect(model.apps.map((app) => app.name)).toEqual(["mail-sender", "device-inventory", "calendar-sync", "ci-deployer", "ci-preview"]);
        expect(model.apis.map((api) => api.displayName)).toEqual(["Microsoft Graph"]);
        expect(model.warnings).toEqual([]);
    });

    it("reads the azuread provider's tenant and cloud, from the stack or as a project default, and never an encrypted one", () => {
        const tenant = "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7";
        const dir = projectDir(
            { dev: { config: { "azuread:tenantId": tenant, "entra-rotor:apps": [] } }, prod: { config: { "azuread:tenantId": { secure: "v1:x" }, "entra-rotor:apps": [] } } },
            { name: "entra-rotor", runtime: "nodejs", config: { "azuread:environment": { default: "china" } } },
        );
        expect(readStackConfig(dir, "dev").provider).toEqual({ tenantId: tenant, environment: "china" });
        expect(readStackConfig(dir, "prod").provider).toEqual({ environment: "china" });
    });
});
