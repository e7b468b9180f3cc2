import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./model/issues";
import { buildModelOrThrow, type StackModel } from "./model/model";
import { EndpointError, identityOptions, resolveEndpoints } from "../azure/endpoints";
import { entraProbe, verifyOptionsFromEnv } from "../azure/probe";
import { defineStack } from "./program";
import { readRuntimeConfig } from "./pulumiConfig";

// The only clock read in the program: everything below is a pure function of config and this instant.
const now = new Date();

function loadModel(): StackModel {
    try {
        return buildModelOrThrow(readRuntimeConfig(), now);
    } catch (error) {
        // RunError prints the message without a stack trace: the message already says what to fix.
        if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

const model = loadModel();
for (const warning of model.warnings) void pulumi.log.warn(`${warning.path}: ${warning.message}`);

/**
 * The verify gate signs in at the cloud the live commands use (ROTOR_CLOUD, AZURE_AUTHORITY_HOST): a
 * sovereign-cloud deployment must not prove its credentials against public Azure.
 */
function probe() {
    try {
        const endpoints = resolveEndpoints({}, process.env);
        return entraProbe({ ...identityOptions(endpoints), scope: endpoints.graphScope });
    } catch (error) {
        if (error instanceof EndpointError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** How long the gate waits for Entra's replication: the defaults, or ROTOR_VERIFY_* for a slow tenant. */
function verify() {
    try {
        return verifyOptionsFromEnv(process.env);
    } catch (error) {
        if (error instanceof RangeError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** Per app: clientId, objectId, servicePrincipalObjectId, tenantId. Identifiers only, never a credential. */
export const apps = defineStack(model, { probe: probe(), verify: verify() }).then((stack) => stack.exports);
