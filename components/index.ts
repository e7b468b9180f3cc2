export * from "./appRegistration";
