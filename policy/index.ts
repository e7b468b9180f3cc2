import { PolicyPack } from "@pulumi/policy";
import { policyPackName } from "./names";
import { policyPackArgs } from "./policies";

// Constructing the pack starts its gRPC server for the Pulumi engine (and reads the version from
// ./package.json), which is why nothing else imports this file: the policies live in policies.ts.
new PolicyPack(policyPackName, policyPackArgs);
