import type { TestProject } from "vitest/node";
import { checkPhp, startHelperServer } from "./helper-server";

declare module "vitest" {
  export interface ProvidedContext {
    helperOrigin: string;
  }
}

export default async function setup(project: TestProject) {
  await checkPhp();
  const { server, origin } = await startHelperServer();
  project.provide("helperOrigin", origin);
  return () => new Promise<void>((r) => server.close(() => r()));
}
