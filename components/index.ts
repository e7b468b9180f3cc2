// The components, for programs that compose them without the stack-config model.
export * from "./appRegistration";
export * from "./clientCertificate";
export * from "./clientSecret";
export * from "./federatedCredentials";
export * from "./keyVaultSecrets";
export * from "./pkcs12";
export * from "./slots";
