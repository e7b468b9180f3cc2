import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { passwordDisplayName } from "../rotation/identifiers";
import { type CredentialSlot, servedSlot, validateSlots } from "./slots";

export interface ClientSecretArgs {
    /** The application's resource id, `/applications/<objectId>` (AppRegistration.applicationId). */
    readonly applicationId: pulumi.Input<string>;
    /** The two slots from the rotation schedule; each slot's generation drives its replacement. */
    readonly slots: readonly CredentialSlot[];
    /** Names the passwords in the Entra admin center, e.g. the credential's name in config. */
    readonly credentialName: string;
}

/** The credential Key Vault should serve. */
export interface ServedSecret {
    readonly slot: 0 | 1;
    readonly generation: number;
    readonly start: string;
    readonly end: string;
    /** The password's key id, as Graph lists it under passwordCredentials. */
    readonly keyId: pulumi.Output<string>;
    /** When Entra made the password (its start date: none is sent), ISO-8601. */
    readonly startDate: pulumi.Output<string>;
    /** The secret value: a Pulumi secret, returned by Entra once at creation. */
    readonly value: pulumi.Output<string>;
}

/**
 * A client secret in two slots. Slot g mod 2 holds generation g and is served; the other slot holds g - 1,
 * still valid, so consumers have a full rotation period to pick up the new value before the old one is
 * replaced. A slot's password is replaced only when its generation changes.
 */
export class ClientSecret extends pulumi.ComponentResource {
    readonly passwords: readonly [azuread.ApplicationPassword, azuread.ApplicationPassword];
    readonly served: ServedSecret;

    constructor(name: string, args: ClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = validateSlots(args.slots);
        if (problems.length > 0) throw new Error(`ClientSecret ${name}: ${problems.join("; ")}`);
        super("entra-rotor:index:ClientSecret", name, {}, opts);

        const bySlot = [...args.slots].sort((a, b) => a.slot - b.slot);
        const passwords = bySlot.map(
            (s) =>
                new azuread.ApplicationPassword(
                    `${name}-slot${s.slot}`,
                    {
                        applicationId: args.applicationId,
                        displayName: passwordDisplayName(args.credentialName, s.slot, s.generation),
                        // No start date: Entra starts the password when it is created. The slot's window may
                        // have begun before this run (a first deployment, a late pipeline), and Entra has
                        // refused start dates in the past (KeyCredentialsInvalidStartDate,
                        // hashicorp/terraform-provider-azuread#1582). The end date is the schedule's.
                        endDate: s.end,
                        rotateWhenChanged: { generation: String(s.generation) },
                    },
                    // The value exists only in Entra's create response; Pulumi must never drop it from state.
                    { parent: this, additionalSecretOutputs: ["value"] },
                ),
        );
        this.passwords = [passwords[0]!, passwords[1]!];

        const served = servedSlot(bySlot);
        const password = this.passwords[served.slot];
        this.served = { ...served, keyId: password.keyId, startDate: password.startDate, value: pulumi.secret(password.value) };
        this.registerOutputs({ servedSlot: served.slot, servedGeneration: served.generation, servedKeyId: password.keyId });
    }
}
