import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { pkcs12Password, toPkcs12 } from "./pkcs12";
import { type CredentialSlot, servedSlot, validateSlots } from "./slots";

export interface ClientCertificateArgs {
    /** The application's resource id, `/applications/<objectId>` (AppRegistration.applicationId). */
    readonly applicationId: pulumi.Input<string>;
    /** The two slots from the rotation schedule; each slot's generation drives its replacement. */
    readonly slots: readonly CredentialSlot[];
    /** The key id of each generation's credential on the app (see certificateKeyId), so the live tenant can be read back; Entra's choice if absent. */
    readonly keyIdOf?: (generation: number) => string;
    /** Names the certificates (subject CN) and the credentials in the Entra admin center. */
    readonly credentialName: string;
    /** RSA key size; Entra's client assertions need at least 2048. */
    readonly keySize?: 2048 | 3072 | 4096;
    /** Also derive a PKCS#12 file of the served slot, with its password. */
    readonly pfx?: boolean;
}

/** The served slot as PKCS#12, for consumers that cannot read PEM. Both are Pulumi secrets. */
export interface ServedPkcs12 {
    /** The PFX, base64. Stable: equal key and certificate give equal bytes, run after run. */
    readonly value: pulumi.Output<string>;
    /** Derived from the private key, so it too is fixed for the slot's life. */
    readonly password: pulumi.Output<string>;
}

/** The certificate Key Vault should serve. */
export interface ServedCertificate {
    readonly slot: 0 | 1;
    readonly generation: number;
    readonly start: string;
    readonly end: string;
    /** The key credential's id on the application. */
    readonly keyId: pulumi.Output<string>;
    /** When the key credential starts: the certificate's own start, set when it was generated, ISO-8601. */
    readonly startDate: pulumi.Output<string>;
    /** Private key (PKCS#8) and certificate in one PEM file, as `ClientCertificateCredential` reads it: a Pulumi secret. */
    readonly pemBundle: pulumi.Output<string>;
    /** The public certificate alone, PEM. */
    readonly certificatePem: pulumi.Output<string>;
    /** With `pfx`: the same key and certificate as PKCS#12. */
    readonly pkcs12?: ServedPkcs12;
}

/** Hours a slot's certificate is valid: its whole lifetime, counted from its creation (never before the slot's start). */
export function certificateValidityHours(slot: CredentialSlot): number {
    return Math.ceil((Date.parse(slot.end) - Date.parse(slot.start)) / 3_600_000);
}

/** Resource options that replace a slot's key and certificate exactly when its generation changes. */
export function slotReplacement(parent: pulumi.Resource, slot: CredentialSlot): pulumi.CustomResourceOptions {
    return { parent, replacementTrigger: `generation ${slot.generation}` };
}

/**
 * A generated certificate credential in two slots: per slot an RSA key and a self-signed certificate
 * (`@pulumi/tls`, kept in the stack's encrypted state, so reruns change nothing), uploaded to the app as an
 * AsymmetricX509Cert key credential. The app credential starts when the certificate does and ends on the
 * slot's end date, which is never after the certificate's own expiry.
 */
export class ClientCertificate extends pulumi.ComponentResource {
    readonly keys: readonly [tls.PrivateKey, tls.PrivateKey];
    readonly certificates: readonly [tls.SelfSignedCert, tls.SelfSignedCert];
    readonly credentials: readonly [azuread.ApplicationCertificate, azuread.ApplicationCertificate];
    readonly served: ServedCertificate;

    constructor(name: string, args: ClientCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = validateSlots(args.slots);
        if (problems.length > 0) throw new Error(`ClientCertificate ${name}: ${problems.join("; ")}`);
        super("entra-rotor:index:ClientCertificate", name, {}, opts);

        const bySlot = [...args.slots].sort((a, b) => a.slot - b.slot);
        const keys: tls.PrivateKey[] = [];
        const certificates: tls.SelfSignedCert[] = [];
        const credentials: azuread.ApplicationCertificate[] = [];
        for (const s of bySlot) {
            const key = new tls.PrivateKey(`${name}-slot${s.slot}-key`, { algorithm: "RSA", rsaBits: args.keySize ?? 2048 }, slotReplacement(this, s));
            const certificate = new tls.SelfSignedCert(
                `${name}-slot${s.slot}-cert`,
                {
                    privateKeyPem: key.privateKeyPem,
                    subject: { commonName: args.credentialName, organizationalUnit: `entra-rotor slot ${s.slot} generation ${s.generation}` },
                    validityPeriodHours: certificateValidityHours(s),
                    // Renewal is the schedule's job; the provider must never replace a certificate on its own.
                    earlyRenewalHours: 0,
                    allowedUses: ["digital_signature"],
                    setSubjectKeyId: true,
                },
                slotReplacement(this, s),
            );
            credentials.push(
                new azuread.ApplicationCertificate(
                    `${name}-slot${s.slot}`,
                    {
                        applicationId: args.applicationId,
                        ...(args.keyIdOf ? { keyId: args.keyIdOf(s.generation) } : {}),
                        type: "AsymmetricX509Cert",
                        encoding: "pem",
                        value: certificate.certPem,
                        // No start date: Entra takes the certificate's own, set when it was generated. Sending
                        // it would put a past date on a key credential replaced without its certificate.
                        endDate: s.end,
                    },
                    // The key id is a function of the generation, so a replacement within one generation (an
                    // emergency rotation) would collide with the credential it replaces: delete that one first.
                    // It is always the value being retired, so nothing a consumer needs is lost.
                    { ...slotReplacement(this, s), deleteBeforeReplace: true },
                ),
            );
            keys.push(key);
            certificates.push(certificate);
        }
        this.keys = [keys[0]!, keys[1]!];
        this.certificates = [certificates[0]!, certificates[1]!];
        this.credentials = [credentials[0]!, credentials[1]!];

        const served = servedSlot(bySlot);
        const certificatePem = this.certificates[served.slot].certPem;
        const privateKeyPem = this.keys[served.slot].privateKeyPemPkcs8;
        this.served = {
            ...served,
            keyId: this.credentials[served.slot].keyId,
            startDate: this.credentials[served.slot].startDate,
            certificatePem,
            pemBundle: pulumi.secret(pulumi.interpolate`${privateKeyPem}${certificatePem}`),
            ...(args.pfx ? { pkcs12: servedPkcs12(privateKeyPem, certificatePem, args.credentialName) } : {}),
        };
        this.registerOutputs({ servedSlot: served.slot, servedGeneration: served.generation, servedKeyId: this.served.keyId });
    }
}

/** The PKCS#12 of a key and certificate, computed only once both are known (never during a preview of a new slot). */
function servedPkcs12(privateKeyPem: pulumi.Output<string>, certificatePem: pulumi.Output<string>, friendlyName: string): ServedPkcs12 {
    const password = privateKeyPem.apply(pkcs12Password);
    const value = pulumi.all([privateKeyPem, certificatePem, password]).apply(([key, certificate, secret]) =>
        toPkcs12({ privateKeyPem: key, certificatePem: certificate, password: secret, friendlyName }),
    );
    return { value: pulumi.secret(value), password: pulumi.secret(password) };
}
