// Validates manifest.yml as `forge lint` and `forge deploy` do, offline:
// 1. @forge/manifest's validate(), Atlassian's own full validation (schema, modules, resources and that
//    their paths exist, remotes, the scopes the remote's OAuth tokens need, permissions);
// 2. the scopes against the Jira calls the service makes (service-calls.json), with the same rule
//    `forge lint` applies to a Forge function's calls (@forge/manifest's getMissingScopes), since the
//    service's calls are made by the remote, where `forge lint` cannot see them.
// Usage: node validate.mjs [path/to/manifest.yml]; exits 1 on any error.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import manifestPackage from "@forge/manifest";

const { validate, getMissingScopes } = manifestPackage;
const here = dirname(fileURLToPath(import.meta.url));
const manifest = resolve(process.argv[2] ?? join(here, "manifest.yml"));

// The remote's baseUrl is the stack's ApiUrl, given at deploy time (make forge-deploy). Validation needs
// a value of the right shape, not the real one.
process.env.API_INFO_BASE_URL ??= "https://api-id.execute-api.us-east-1.amazonaws.com/v1";

// Paths in @forge/manifest's checks are relative to the working directory, as when forge runs.
process.chdir(dirname(manifest));
const result = await validate(false, manifest);
const errors = [...(result.errors ?? [])];

const content = result.manifestObject?.typedContent;
if (content) {
  const scopes = content.permissions?.scopes;
  const scopesLine = result.manifestObject.yamlContentByLine.findIndex((line) => /^\s*scopes:/.test(line)) + 1;
  const { calls } = JSON.parse(readFileSync(join(here, "service-calls.json"), "utf8"));
  for (const call of calls) {
    for (const scope of await getMissingScopes(scopes, { current: call.current, beta: call.beta })) {
      errors.push({
        level: "error",
        // forge lint's own wording for a call without its scope
        message: `Jira endpoint: ${call.method} ${call.path} requires "${scope}" scope (${call.why})`,
        reference: "permission-scope-required",
        line: scopesLine,
        column: 0,
      });
    }
  }
}

const name = relative(process.cwd(), manifest) || manifest;
for (const error of errors) {
  const where = `${name}:${error.line ?? 0}:${error.column ?? 0}`;
  console.log(`${where}  ${error.level ?? "error"}  ${error.message}  ${error.reference ?? ""}`.trimEnd());
}
const failed = errors.filter((error) => (error.level ?? "error") === "error");
if (failed.length > 0 || !result.success) {
  console.log(`${name}: ${failed.length} error(s); the manifest is not valid`);
  process.exit(1);
}
console.log(`${name}: valid (@forge/manifest full validation, and the scopes of every Jira call of the service)`);
