import * as pulumi from "@pulumi/pulumi";
import type { StackConfigInput } from "./model/model";
import { nullPrototype } from "./model/rawInput";

/** Keys whose values Pulumi hands to the program as JSON text (structured config). */
const structuredKeys = new Set(["apps", "rotation", "keyVault"]);

/**
 * The stack config as the Pulumi runtime sees it, in the same shape the CLI reads from the YAML files,
 * so both build the model from the same input.
 */
export function readRuntimeConfig(): StackConfigInput {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    // Null-prototype, as the offline CLI reads it: `entra-rotor:__proto__` is an (unknown) key, not a prototype.
    const values: Record<string, unknown> = Object.create(null);
    const provider: { tenantId?: unknown; environment?: unknown } = {};
    for (const [key, raw] of Object.entries(pulumi.runtime.allConfig())) {
        if (key === "azuread:tenantId") provider.tenantId = raw;
        if (key === "azuread:environment") provider.environment = raw;
        const colon = key.indexOf(":");
        if (key.slice(0, colon) !== project) continue;
        const own = key.slice(colon + 1);
        values[own] = structuredKeys.has(own) ? parseStructured(raw) : raw;
    }
    return { project, stack, values, provider, source: `Pulumi.${stack}.yaml` };
}

function parseStructured(raw: string): unknown {
    try {
        // Null-prototype objects as the stack files are read, so the raw-input check takes them as they are.
        return JSON.parse(raw, (_key, value: unknown) => nullPrototype(value));
    } catch {
        // A plain string where a list is expected: let validation report it with its path.
        return raw;
    }
}
